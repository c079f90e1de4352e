namespace Ketenmesh.Registry.Persistence;

/// <summary>One registration; the full record is the protobuf in <see cref="Data"/>, the columns are what queries need.</summary>
public sealed class RegistrationRow
{
    public string RegistrationId { get; set; } = "";
    /// <summary>Who registered it directly, with their idempotency key; null for registrations made from signals.</summary>
    public string? ReporterPartnerId { get; set; }
    public string? ClientRequestId { get; set; }
    public int Status { get; set; }
    public long Version { get; set; }
    /// <summary>chain.registry.v1.Registration, protobuf bytes.</summary>
    public byte[] Data { get; set; } = [];
    public DateTime RegisteredAt { get; set; }
    /// <summary>Last day of a running reflection period; null when none runs. What the reminder watch looks for.</summary>
    public DateOnly? ReflectionEndsOn { get; set; }
    /// <summary>Set once ReflectionPeriodEnding was raised for the running period.</summary>
    public bool ReflectionReminded { get; set; }
    /// <summary>
    /// The partner type of the person's guardian (chain.common.v1.PartnerType; 0 for none or a merged
    /// registration): what ListWards looks for, since the record itself is stored whole.
    /// </summary>
    public int Guardian { get; set; }
}

/// <summary>A pseudonymous link key held by a registration: the index record linkage looks in.</summary>
public sealed class LinkKeyRow
{
    public long Id { get; set; }
    public string RegistrationId { get; set; } = "";
    public int Kind { get; set; }
    public string KeyId { get; set; } = "";
    public byte[] KeyedHash { get; set; } = [];
}

/// <summary>
/// A signal the registry has heard of, waiting for both halves of what it needs: what was observed
/// (SignalReceived) and how it was assessed (RiskAssessed), which may arrive in either order.
/// </summary>
public sealed class PendingSignalRow
{
    public string SignalId { get; set; } = "";
    public byte[]? Received { get; set; }
    public byte[]? Assessed { get; set; }
    /// <summary>Set once decided (registered, linked or not registered), so a late copy changes nothing.</summary>
    public bool Decided { get; set; }
    /// <summary>When news of it last came in (a half, a re-assessment, the decision): its retention counts from here.</summary>
    public DateTime ChangedAt { get; set; }
}

/// <summary>A merge as it was answered, so a retried MergeRegistrations returns the same merge.</summary>
public sealed class MergeRow
{
    public string MergeId { get; set; } = "";
    public string PartnerId { get; set; } = "";
    public string ClientRequestId { get; set; } = "";
    public string SurvivingRegistrationId { get; set; } = "";
    /// <summary>chain.registry.v1.MergeRecord, protobuf bytes.</summary>
    public byte[] Data { get; set; } = [];
    public DateTime MergedAt { get; set; }
}

/// <summary>A consent; the full record is the protobuf in <see cref="Data"/>.</summary>
public sealed class ConsentRow
{
    public string ConsentId { get; set; } = "";
    public string RegistrationId { get; set; } = "";
    /// <summary>The partner that recorded it, with its idempotency key.</summary>
    public string PartnerId { get; set; } = "";
    public string ClientRequestId { get; set; } = "";
    public long Version { get; set; }
    /// <summary>chain.registry.v1.Consent, protobuf bytes.</summary>
    public byte[] Data { get; set; } = [];
    public DateTime RecordedAt { get; set; }
}

/// <summary>
/// A placement the shelter service released (PlacementReleased). PlacementConfirmed and PlacementReleased
/// arrive on queues of their own, in either order: a confirmation of a placement already released records nothing.
/// </summary>
public sealed class PlacementReleaseRow
{
    public string PlacementId { get; set; } = "";
    public DateTime ReleasedAt { get; set; }
}
