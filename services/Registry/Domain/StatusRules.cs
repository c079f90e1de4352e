using Chain.Registry.V1;

namespace Ketenmesh.Registry.Domain;

/// <summary>
/// The victim status moves forward only (signalled → possible → presumed → identified), and any open
/// registration may be closed with a reason. Identification is a certified investigator's call, so
/// only the police, the marechaussee and the labour inspectorate may make it.
/// </summary>
public static class StatusRules
{
    public static readonly IReadOnlySet<string> Investigators = new HashSet<string>(StringComparer.Ordinal) { "police", "kmar", "inspectorate" };

    /// <returns>Null when allowed, else why not (for FAILED_PRECONDITION or PERMISSION_DENIED).</returns>
    public static (bool Forbidden, string Reason)? Refusal(VictimStatus from, VictimStatus to, RegistrationClosureReason reason, string partnerId)
    {
        if (from == VictimStatus.Closed)
        {
            return (false, "The registration is closed; a closed registration does not change status.");
        }
        if (to == VictimStatus.Closed)
        {
            return reason == RegistrationClosureReason.Unspecified || reason == RegistrationClosureReason.Merged
                ? (false, "Closing needs a closure reason (MERGED is set by MergeRegistrations only).")
                : null;
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
}
