using Chain.Shelter.V1;
using Ketenmesh.Shelter.Persistence;

namespace Ketenmesh.Shelter.Domain;

/// <summary>
/// Who may be placed in categorical shelter (COSM). Source: seeds/001…txt L7982–7984: "dat slachtoffers
/// meerderjarig en buitenlands moeten zijn, in de bedenktijd moeten zitten en niet eerder in een asieltraject
/// gezeten mogen hebben"; L7991–7994 (the COSM waiting list): "meerderjarig, zit in de bedenktijd, heeft nog
/// geen aangifte gedaan en heeft niet de Nederlandse nationaliteit".
/// </summary>
public static class CosmAdmission
{
    /// <summary>Every criterion the person does not meet, each on its own; empty when admitted.</summary>
    public static List<CosmIneligibility> Check(AdmissionFactsRow facts)
    {
        var reasons = new List<CosmIneligibility>();
        if (facts.Minor)
        {
            reasons.Add(CosmIneligibility.Minor);
        }
        if (facts.DutchNational)
        {
            reasons.Add(CosmIneligibility.DutchNational);
        }
        if (!facts.InReflectionPeriod)
        {
            reasons.Add(CosmIneligibility.NotInReflectionPeriod);
        }
        if (facts.AangifteMade)
        {
            reasons.Add(CosmIneligibility.AangifteMade);
        }
        if (facts.AsylumProcedure)
        {
            reasons.Add(CosmIneligibility.EarlierAsylumProcedure);
        }
        return reasons;
    }
}
