namespace Ketenmesh.Returns.Persistence;

/// <summary>One return case; the full record is the protobuf in <see cref="Data"/>, the columns are what queries and the deadline watch need.</summary>
public sealed class ReturnCaseRow
{
    public string ReturnCaseId { get; set; } = "";
    /// <summary>The person's CoMensha registration: where residence decisions and consents are looked up.</summary>
    public string RegistrationId { get; set; } = "";
    /// <summary>A D9 suspension is open: no departure may be planned or recorded.</summary>
    public bool DepartureSuspended { get; set; }
    /// <summary>The plan's 30-day target while the person has not departed; null otherwise.</summary>
    public DateOnly? TargetDepartureBy { get; set; }
    /// <summary>Set once ReturnTargetAtRisk was raised for the current target.</summary>
    public bool TargetFlagged { get; set; }
    /// <summary>Day the next monitoring check-in is due while monitoring runs; null otherwise.</summary>
    public DateOnly? NextCheckInDue { get; set; }
    /// <summary>Set once MonitoringCheckInOverdue was raised for <see cref="NextCheckInDue"/>.</summary>
    public bool CheckInFlagged { get; set; }
    /// <summary>An outcome was recorded: the case left the return track.</summary>
    public bool Closed { get; set; }
    public long Version { get; set; }
    /// <summary>chain.returns.v1.ReturnCase, protobuf bytes.</summary>
    public byte[] Data { get; set; } = [];
    public DateTime CreatedAt { get; set; }
}

/// <summary>A partner's request that made or changed a case, by its idempotency key, so a retry answers the same case.</summary>
public sealed class ReturnRequestRow
{
    public string PartnerId { get; set; } = "";
    public string ClientRequestId { get; set; } = "";
    public string ReturnCaseId { get; set; } = "";
}

/// <summary>The registry's residence position of a registration, as its events told it (newest version kept).</summary>
public sealed class KnownResidenceRow
{
    public string RegistrationId { get; set; } = "";
    public long RegistrationVersion { get; set; }
    public int LegalStay { get; set; }
    public int TemporaryResidenceDecision { get; set; }
    public int ContinuedResidenceDecision { get; set; }
}

/// <summary>A consent as the registry's events told it; <see cref="Data"/> is the chain.events.v1.ConsentChanged that last changed it.</summary>
public sealed class KnownConsentRow
{
    public string ConsentId { get; set; } = "";
    public string RegistrationId { get; set; } = "";
    public byte[] Data { get; set; } = [];
}

/// <summary>
/// A registration the registry merged into another (RegistrationsMerged): what this service knew under the merged
/// id, and anything the chain still says under it, belongs to the survivor. Always the last survivor: when that one
/// is merged in turn, its rows are repointed.
/// </summary>
public sealed class KnownMergeRow
{
    public string MergedRegistrationId { get; set; } = "";
    public string SurvivingRegistrationId { get; set; } = "";
}
