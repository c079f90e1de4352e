using Chain.Common.V1;
using Chain.Events.V1;
using Chain.Registry.V1;
using Chain.Returns.V1;
using Google.Protobuf;
using Ketenmesh.Contracts;
using Ketenmesh.Returns.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Returns.Domain;

/// <summary>A residence decision the IND took, as far as departure is concerned.</summary>
public enum ResidenceOutcome
{
    /// <summary>No decision recorded yet: a D9 suspension stays.</summary>
    Undecided,
    /// <summary>Residence granted (B8/3, continued residence or another permit): return is off for now.</summary>
    Granted,
    /// <summary>Residence refused: the departure process resumes.</summary>
    Refused,
}

/// <summary>
/// What return coordination knows of the registry: residence decisions, consents and merges, kept from the
/// registry's events in this service's own tables. The registry is never called: a return decision
/// must not depend on the registry answering at that moment, and the registry's grants stay its own.
/// </summary>
public sealed class RegistryKnowledge(ReturnsDbContext db)
{
    /// <summary>Keeps the newest residence position (events may arrive out of order). True when it changed.</summary>
    public async Task<bool> RememberResidenceAsync(ResidenceStatusRecorded news, CancellationToken cancellationToken)
    {
        var row = await db.Residence.FirstOrDefaultAsync(r => r.RegistrationId == news.RegistrationId, cancellationToken);
        if (row is not null && row.RegistrationVersion >= news.RegistrationVersion)
        {
            return false;
        }
        if (row is null)
        {
            row = new KnownResidenceRow { RegistrationId = news.RegistrationId };
            db.Residence.Add(row);
        }
        row.RegistrationVersion = news.RegistrationVersion;
        row.LegalStay = (int)news.LegalStay;
        row.TemporaryResidenceDecision = (int)news.TemporaryResidenceDecision;
        row.ContinuedResidenceDecision = (int)news.ContinuedResidenceDecision;
        return true;
    }

    /// <summary>Keeps the newest version of a consent (events may arrive out of order).</summary>
    public async Task RememberConsentAsync(ConsentChanged news, CancellationToken cancellationToken)
    {
        // The registry moves a merged registration's consents to the survivor; a copy sent before the merge, arriving late, follows them.
        var registrationId = await SurvivorOfAsync(news.RegistrationId, cancellationToken);
        var row = await db.Consents.FirstOrDefaultAsync(c => c.ConsentId == news.ConsentId, cancellationToken);
        if (row is null)
        {
            db.Consents.Add(new KnownConsentRow { ConsentId = news.ConsentId, RegistrationId = registrationId, Data = news.ToByteArray() });
            return;
        }
        var known = ConsentChanged.Parser.ParseFrom(row.Data);
        // Events from before the registry sent versions (0) cannot be ordered; of those, only a
        // withdrawal is known to be the later one, since the registry never gives a consent back.
        var older = news.Version > 0 && known.Version > 0 ? news.Version <= known.Version : known.State == ConsentState.Withdrawn;
        if (older)
        {
            return;
        }
        row.RegistrationId = registrationId;
        row.Data = news.ToByteArray();
    }

    /// <summary>
    /// The registry merged registrations of one person (RegistrationsMerged): each merged id now points at the
    /// survivor (and whatever pointed at a merged id points there too), and the consents known under a merged id
    /// move to the survivor, as the registry moved them. Returns the survivor, itself resolved through merges
    /// already known. Applying the same merge again changes nothing.
    /// </summary>
    public async Task<string> RememberMergeAsync(RegistrationsMerged news, CancellationToken cancellationToken)
    {
        var survivor = await SurvivorOfAsync(news.SurvivingRegistrationId, cancellationToken);
        var merged = news.MergedRegistrationIds.Where(id => id.Length > 0 && id != survivor).Distinct().ToList();
        foreach (var id in merged)
        {
            if (await db.Merges.FirstOrDefaultAsync(m => m.MergedRegistrationId == id, cancellationToken) is { } known)
            {
                known.SurvivingRegistrationId = survivor;
            }
            else
            {
                db.Merges.Add(new KnownMergeRow { MergedRegistrationId = id, SurvivingRegistrationId = survivor });
            }
        }
        foreach (var earlier in await db.Merges.Where(m => merged.Contains(m.SurvivingRegistrationId)).ToListAsync(cancellationToken))
        {
            earlier.SurvivingRegistrationId = survivor;
        }
        foreach (var consent in await db.Consents.Where(c => merged.Contains(c.RegistrationId)).ToListAsync(cancellationToken))
        {
            consent.RegistrationId = survivor;
        }
        return survivor;
    }

    /// <summary>The registration that carries the person now: the survivor when <paramref name="registrationId"/> was merged, else itself.</summary>
    public async Task<string> SurvivorOfAsync(string registrationId, CancellationToken cancellationToken)
    {
        var current = registrationId;
        // Merge rows point at the last survivor; the bound only guards against a cycle no registry would make.
        for (var hops = 0; hops < 16; hops++)
        {
            var next = await db.Merges.Where(m => m.MergedRegistrationId == current).Select(m => m.SurvivingRegistrationId).FirstOrDefaultAsync(cancellationToken);
            if (next is null || next == current)
            {
                break;
            }
            current = next;
        }
        return current;
    }

    public async Task<ResidenceOutcome> ResidenceOfAsync(string registrationId, CancellationToken cancellationToken) =>
        await db.Residence.AsNoTracking().FirstOrDefaultAsync(r => r.RegistrationId == registrationId, cancellationToken) is { } row
            ? OutcomeOf((ResidenceDecision)row.TemporaryResidenceDecision, (ResidenceDecision)row.ContinuedResidenceDecision, (LegalStay)row.LegalStay)
            : ResidenceOutcome.Undecided;

    /// <summary>
    /// The decision that ends a D9 suspension. Source: seeds/001…txt L6278–6280: "start het zogenoemde
    /// D9-proces, waarmee het vertrekproces … wordt opgeschort, tot een beslissing is genomen over een
    /// eventuele verblijfsvergunning". A pending application is no decision; a granted permit of any
    /// kind is; a refusal of the B8/3 (or continued-residence) application is.
    /// </summary>
    public static ResidenceOutcome OutcomeOf(ResidenceDecision temporary, ResidenceDecision continued, LegalStay stay)
    {
        if (temporary == ResidenceDecision.Granted || continued == ResidenceDecision.Granted
            || stay is LegalStay.TraffickingVictimPermit or LegalStay.OtherPermit)
        {
            return ResidenceOutcome.Granted;
        }
        return temporary == ResidenceDecision.Refused || continued == ResidenceDecision.Refused
            ? ResidenceOutcome.Refused
            : ResidenceOutcome.Undecided;
    }

    /// <summary>
    /// True when a consent in force lets IOM tell CoMensha about the return. Source: seeds/001…txt
    /// L9764–9766: "IOM stelt CoMensha ook op de hoogte wanneer slachtoffers zijn teruggekeerd naar het
    /// land van herkomst (dit op basis van een schriftelijke toestemming van het slachtoffer)": written,
    /// from the victim (or the legal representative of a minor), for IOM to CoMensha, on the return topic.
    /// </summary>
    /// <param name="consentId">A particular consent that must be the one; null for any.</param>
    public async Task<bool> ReturnMayBeToldAsync(string registrationId, string? consentId, DateOnly today, CancellationToken cancellationToken)
    {
        var rows = await db.Consents.AsNoTracking()
            .Where(c => c.RegistrationId == registrationId && (consentId == null || c.ConsentId == consentId))
            .Select(c => c.Data)
            .ToListAsync(cancellationToken);
        return rows.Select(data => ConsentChanged.Parser.ParseFrom(data)).Any(c => InForce(c, today));
    }

    private static bool InForce(ConsentChanged consent, DateOnly today) =>
        consent.State == ConsentState.Given
        && consent.Form == ConsentForm.Written
        && consent.Giver is ConsentGiver.Victim or ConsentGiver.LegalRepresentative
        && consent.DisclosingPartner == PartnerType.Iom
        && consent.RecipientPartner == PartnerType.Comensha
        && consent.Topics.Contains(DisclosureTopic.Return)
        && (consent.ValidUntil.ToDateOnly() is not { } until || until >= today);

    /// <summary>What a residence outcome lifts a D9 suspension as.</summary>
    public static D9LiftReason LiftReasonOf(ResidenceOutcome outcome) => outcome switch
    {
        ResidenceOutcome.Granted => D9LiftReason.ResidenceGranted,
        ResidenceOutcome.Refused => D9LiftReason.ResidenceRefused,
        _ => D9LiftReason.Unspecified,
    };
}
