using Ketenmesh.Audit.Storage;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Audit.Reading;

/// <summary>
/// One line of a data-subject access report: who accessed the subject, when, and for what.
/// <paramref name="WithheldFromSubject"/>: a confidential record not yet released, listed only for an officer who asked for them.
/// </summary>
public sealed record SubjectAccess(long Sequence, DateTimeOffset Time, string PartnerId, string Purpose, string Method, AuditDecision Decision, bool WithheldFromSubject = false);

/// <summary>
/// What a privacy officer searches the whole log by: each filter that is set narrows the search (partner,
/// purpose and method compared exactly; <paramref name="Decision"/> null means either outcome), within [From, To)
/// where either bound may be open (null).
/// </summary>
public sealed record AuditSearch(string? PartnerId, string? Purpose, string? Method, AuditDecision? Decision, DateTimeOffset? From, DateTimeOffset? To);

/// <summary>
/// Which partners accessed a subject. Confidential (investigation) records are withheld, only
/// counted, until a privacy officer releases them: telling a suspect about an investigation early
/// would harm it.
/// </summary>
public sealed record SubjectAccessReport(string SubjectPseudonym, IReadOnlyList<SubjectAccess> Accesses, int Withheld);

/// <summary>
/// The read side of the log, for partners (their own records) and privacy officers. Everything it returns is
/// printable (<see cref="AuditText.Printable(AuditEntry)"/>): a record written before the log cleaned its text
/// could still hold a newline or an escape sequence, and what reads it shows it in terminals and reports.
/// </summary>
public sealed class AuditReader(AuditDbContext db, TimeProvider clock)
{
    /// <summary>A partner's own records, oldest first, never another partner's.</summary>
    public async Task<IReadOnlyList<StoredAuditEntry>> ForPartnerAsync(string partnerId, DateTimeOffset from, DateTimeOffset to, int limit, long afterSequence = 0, CancellationToken cancellationToken = default)
    {
        long fromMs = from.ToUnixTimeMilliseconds(), toMs = to.ToUnixTimeMilliseconds();
        var rows = await db.Records.AsNoTracking()
            .Where(r => r.PartnerId == partnerId && r.Sequence > afterSequence && r.TimeMs >= fromMs && r.TimeMs < toMs)
            .OrderBy(r => r.Sequence)
            .Take(Math.Clamp(limit, 1, 1000))
            .ToListAsync(cancellationToken);
        return rows.Select(Stored).ToList();
    }

    /// <summary>Records in chain order from <paramref name="fromSequence"/>, for privacy officers and exports; purged records are left out.</summary>
    public async Task<IReadOnlyList<StoredAuditEntry>> RangeAsync(long fromSequence, int limit, CancellationToken cancellationToken = default)
    {
        var rows = await db.Records.AsNoTracking()
            .Where(r => r.Sequence >= fromSequence && r.PurgedAtMs == null)
            .OrderBy(r => r.Sequence)
            .Take(Math.Clamp(limit, 1, 10_000))
            .ToListAsync(cancellationToken);
        return rows.Select(Stored).ToList();
    }

    /// <summary>
    /// Every partner's records matching <paramref name="search"/>, oldest first, after <paramref name="afterSequence"/>;
    /// purged records are left out (their content is gone, so no filter can match them). Each filter has an index
    /// ending in the sequence (migration audit-0004-search), so a page is read in order, not sorted from a scan.
    /// </summary>
    public async Task<IReadOnlyList<StoredAuditEntry>> SearchAsync(AuditSearch search, int limit, long afterSequence = 0, CancellationToken cancellationToken = default)
    {
        var rows = await SearchQuery(search, limit, afterSequence).ToListAsync(cancellationToken);
        return rows.Select(Stored).ToList();
    }

    /// <summary>
    /// The search as the database is asked it: only the filters that are set, so each can use its index. A time range
    /// names every record class, so it is read from the retention's index (record_class, time_ms) as one range per
    /// class. SQLite plans without histograms and takes any range for a narrow one, so there a time bound beside a
    /// partner, purpose or method is compared without an index (<c>time_ms + 0</c>): that filter's index, in sequence
    /// order, stops after a page, where a time index would read and sort every record in the range for each page.
    /// PostgreSQL knows the spread of times and chooses for itself.
    /// </summary>
    internal IQueryable<AuditRecordRow> SearchQuery(AuditSearch search, int limit, long afterSequence)
    {
        var query = db.Records.AsNoTracking().Where(r => r.Sequence > afterSequence && r.PurgedAtMs == null);
        var narrowed = false;
        if (!string.IsNullOrEmpty(search.PartnerId))
        {
            query = query.Where(r => r.PartnerId == search.PartnerId);
            narrowed = true;
        }
        if (!string.IsNullOrEmpty(search.Purpose))
        {
            query = query.Where(r => r.Purpose == search.Purpose);
            narrowed = true;
        }
        if (!string.IsNullOrEmpty(search.Method))
        {
            query = query.Where(r => r.Method == search.Method);
            narrowed = true;
        }
        if (search.Decision is { } decision)
        {
            var value = (int)decision;
            query = query.Where(r => r.Decision == value);
        }
        if (search.From is null && search.To is null)
        {
            return query.OrderBy(r => r.Sequence).Take(Math.Clamp(limit, 1, 1000));
        }
        long fromMs = search.From?.ToUnixTimeMilliseconds() ?? long.MinValue, toMs = search.To?.ToUnixTimeMilliseconds() ?? long.MaxValue;
        if (narrowed && db.Database.ProviderName?.Contains("Sqlite", StringComparison.Ordinal) == true)
        {
            query = query.Where(r => r.TimeMs + 0 >= fromMs && r.TimeMs + 0 < toMs);
        }
        else
        {
            // Constants, so the database sees the classes in the statement; a class added to AuditRecordClass goes here too.
            query = query.Where(r => (r.RecordClass == (int)AuditRecordClass.Access || r.RecordClass == (int)AuditRecordClass.Confidential)
                && r.TimeMs >= fromMs && r.TimeMs < toMs);
        }
        return query.OrderBy(r => r.Sequence).Take(Math.Clamp(limit, 1, 1000));
    }

    /// <summary>
    /// The subject's report. With <paramref name="includeWithheld"/> (for the officer, never the subject) the confidential
    /// records not yet released are listed too, each marked <see cref="SubjectAccess.WithheldFromSubject"/>; they are counted
    /// in <see cref="SubjectAccessReport.Withheld"/> either way.
    /// </summary>
    public async Task<SubjectAccessReport> SubjectAccessReportAsync(string subjectPseudonym, bool includeWithheld = false, CancellationToken cancellationToken = default)
    {
        var rows = await db.Records.AsNoTracking().Where(r => r.SubjectPseudonym == subjectPseudonym).OrderBy(r => r.Sequence).ToListAsync(cancellationToken);
        var sequences = rows.Select(r => r.Sequence).ToList();
        var released = (await db.Releases.AsNoTracking().Where(r => sequences.Contains(r.Sequence)).Select(r => r.Sequence).ToListAsync(cancellationToken)).ToHashSet();
        var accesses = new List<SubjectAccess>();
        var withheld = 0;
        foreach (var row in rows)
        {
            var withheldFromSubject = row.RecordClass == (int)AuditRecordClass.Confidential && !released.Contains(row.Sequence);
            if (withheldFromSubject)
            {
                withheld++;
                if (!includeWithheld)
                {
                    continue;
                }
            }
            var entry = AuditText.Printable(row.ToEntry()!);
            accesses.Add(new SubjectAccess(row.Sequence, entry.Time, entry.PartnerId, entry.Purpose, entry.Method, entry.Decision, withheldFromSubject));
        }
        return new SubjectAccessReport(AuditText.Printable(subjectPseudonym), accesses, withheld);
    }

    private static StoredAuditEntry Stored(AuditRecordRow row) =>
        new(row.Sequence, AuditText.Printable(row.ToEntry()!), Convert.ToHexStringLower(row.Hash));

    /// <summary>Releases a confidential record for subject access reports; recorded beside the chain, which is never edited.</summary>
    public async Task ReleaseAsync(long sequence, string releasedBy, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(releasedBy);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        if (!await db.Records.AnyAsync(r => r.Sequence == sequence && r.RecordClass == (int)AuditRecordClass.Confidential, cancellationToken))
        {
            throw new KeyNotFoundException($"There is no confidential audit record {sequence}.");
        }
        db.Releases.Add(new AuditReleaseRow { Sequence = sequence, ReleasedBy = releasedBy, Reason = reason, ReleasedAtMs = clock.GetUtcNow().ToUnixTimeMilliseconds() });
        await db.SaveChangesAsync(cancellationToken);
    }
}
