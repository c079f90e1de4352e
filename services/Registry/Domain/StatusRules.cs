using Chain.Registry.V1;

namespace Ketenmesh.Registry.Domain;

/// <summary>
/// The victim status moves forward only (signalled → possible → presumed → identified), and any open
/// registration may be closed with a reason. Identification is a certified investigator's call, so
/// only the police, the marechaussee and the labour inspectorate may make it, and only they may undo it
/// by closing an identified registration as not a victim. A closed registration may be reopened, with
/// its closure kept, by a partner that may close it that way.
/// </summary>
public static class StatusRules
{
    /// <summary>
    /// The certified investigators (gecertificeerde rechercheurs): the investigating services of the chain,
    /// the police, the marechaussee and the labour inspectorate's criminal investigators. Not the OM, which
    /// prosecutes on their findings, nor CoMensha or care partners, which register and support.
    /// </summary>
    /// <remarks>
    /// Source: seeds/001…txt L5589–5590: "In het Nationaal Referentiekader Mensenhandel van de politie (2013) is het volgende
    /// genoemd: ‘Alle door een gecertificeerde rechercheur vastgestelde slachtoffers worden gemeld bij CoMensha.’"
    /// </remarks>
    public static readonly IReadOnlySet<string> Investigators = new HashSet<string>(StringComparer.Ordinal) { "police", "kmar", "inspectorate" };

    /// <returns>Null when allowed, else why not (for FAILED_PRECONDITION or PERMISSION_DENIED).</returns>
    public static (bool Forbidden, string Reason)? Refusal(VictimStatus from, VictimStatus to, RegistrationClosureReason reason, string partnerId)
    {
        if (from == VictimStatus.Closed)
        {
            return (false, "The registration is closed; a closed registration does not change status, but can be reopened to the status it had.");
        }
        if (to == VictimStatus.Closed)
        {
            if (reason == RegistrationClosureReason.Unspecified || reason == RegistrationClosureReason.Merged)
            {
                return (false, "Closing needs a closure reason (MERGED is set by MergeRegistrations only).");
            }
            return ClosingRefusal(from, reason, partnerId);
        }
        if (to <= from || to == VictimStatus.Unspecified)
        {
            // Not the current status: the caller may not be able to read it.
            return (false, $"The status moves forward only, and this registration's status cannot become {to}.");
        }
        if (reason != RegistrationClosureReason.Unspecified)
        {
            return (false, "A closure reason belongs with CLOSED only.");
        }
        if (to == VictimStatus.Identified && !Investigators.Contains(partnerId))
        {
            return (true, "Only a certified investigator (police, kmar, inspectorate) identifies a victim.");
        }
        return null;
    }

    /// <summary>
    /// Reopening a closed registration: to the status it had when it was closed, or further under the usual
    /// rules, by a partner that may close it with that reason. A merged registration stays closed: its
    /// person lives on in the registration it was merged into.
    /// </summary>
    /// <remarks>
    /// The sources say nothing about reopening a registration: the rule is issue 12's ("A closed registration
    /// can be reopened by the partner who may close it, with history"). It rests on seeds/001…txt L5589–5590
    /// (‘Alle door een gecertificeerde rechercheur vastgestelde slachtoffers worden gemeld bij CoMensha.’), which
    /// makes closing an identified victim a certified investigator's call, so reopening is too; and on
    /// L9368–9370 (victims "worden … vaak opnieuw verhandeld binnen twee jaar"), so a person whose registration
    /// was closed can turn up again. Closing is a registration decision, not an end the law sets: a closing found
    /// wrong is undone by whoever may take that decision, and the closing stays on record.
    /// </remarks>
    /// <returns>Null when allowed, else why not.</returns>
    public static (bool Forbidden, string Reason)? ReopeningRefusal(Registration closed, VictimStatus to, RegistrationClosureReason reason, string partnerId)
    {
        if (closed.ClosureReason == RegistrationClosureReason.Merged)
        {
            return (false, "A merged registration is not reopened; change the registration it was merged into.");
        }
        if (to is VictimStatus.Closed or VictimStatus.Unspecified || reason != RegistrationClosureReason.Unspecified)
        {
            return (false, "The registration is closed; it can be reopened to an open status, without a closure reason.");
        }
        // Closed before closures were recorded: the status it had is unknown, so any open status is a reopening from the first.
        var before = closed.Closures.LastOrDefault()?.StatusBefore ?? VictimStatus.Signalled;
        if (ClosingRefusal(before, closed.ClosureReason, partnerId) is { } closing)
        {
            return (closing.Forbidden, $"Only a partner that may close a registration this way reopens it. {closing.Reason}");
        }
        if (to < before)
        {
            return (false, "A reopened registration takes up the status it had when it was closed, or a later one.");
        }
        return to == before ? null : Refusal(before, to, RegistrationClosureReason.Unspecified, partnerId);
    }

    /// <summary>
    /// Who may close from a status for a reason: an identified victim was found one by a certified investigator,
    /// so only a certified investigator (<see cref="Investigators"/>) finds that it is not one after all.
    /// </summary>
    /// <remarks>Source: seeds/001…txt L5589–5590: "Alle door een gecertificeerde rechercheur vastgestelde slachtoffers worden gemeld bij CoMensha."</remarks>
    private static (bool Forbidden, string Reason)? ClosingRefusal(VictimStatus from, RegistrationClosureReason reason, string partnerId) =>
        from == VictimStatus.Identified && reason == RegistrationClosureReason.NotAVictim && !Investigators.Contains(partnerId)
            ? (true, "Only a certified investigator (police, kmar, inspectorate) closes an identified victim's registration as NOT_A_VICTIM.")
            : null;
}
