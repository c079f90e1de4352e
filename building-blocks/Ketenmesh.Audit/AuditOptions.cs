namespace Ketenmesh.Audit;

/// <summary>Section <c>Audit</c>. The log's database is the component's own <c>Database</c> section.</summary>
public sealed class AuditOptions
{
    /// <summary>The checkpoint signing key; default <c>{Mesh:DataDirectory}/audit-checkpoint-key.pkcs8</c>.</summary>
    public string? KeyFile { get; set; }

    /// <summary>A signed checkpoint after this many records…</summary>
    public int CheckpointInterval { get; set; } = 1000;

    /// <summary>…or this long after the last one, whichever comes first (and when the log stops).</summary>
    public TimeSpan CheckpointPeriod { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Most records committed in one transaction.</summary>
    public int MaxBatch { get; set; } = 512;

    /// <summary>
    /// The longest a caller waits for its record to be durable before it is refused with
    /// <see cref="AuditUnavailableException"/>, and the longest one database step of the writer (a commit,
    /// a checkpoint) may take. Well under the deadlines partners set, so a log that cannot write turns
    /// into UNAVAILABLE, which they retry, rather than into calls that hang until their deadline.
    /// </summary>
    public TimeSpan AppendTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long ordinary access records are kept before their content is purged.</summary>
    public TimeSpan AccessRetention { get; set; } = TimeSpan.FromDays(5 * 365);

    /// <summary>How often the retention purge runs (and once at start); zero switches it off.</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How long confidential (investigation) records are kept.</summary>
    public TimeSpan ConfidentialRetention { get; set; } = TimeSpan.FromDays(10 * 365);
}
