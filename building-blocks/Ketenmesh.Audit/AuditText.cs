using System.Globalization;
using System.Text;

namespace Ketenmesh.Audit;

/// <summary>
/// The audit log's text, safe to store and to show. Much of what a record holds comes from the caller
/// (the path, <c>x-purpose</c>, a token's claims), and a record is read in terminals and reports: a
/// newline would forge a line, an escape sequence would drive the terminal, a bidi override would
/// reorder what is read. So every control or format character (C0, DEL, C1, U+2028/9, bidi and
/// zero-width marks, broken surrogates) becomes U+FFFD, visibly, and every field has a length bound.
/// Applied once, where entries are appended (<see cref="AuditLog"/>), and again, unbounded, where they are
/// read (<see cref="Reading.AuditReader"/>, through <see cref="Printable(AuditEntry)"/>), for records written
/// before it existed; the verifier alone reads records as stored.
/// </summary>
public static class AuditText
{
    /// <summary>What stands in for a character that must not be stored or shown.</summary>
    public const char Replacement = '\uFFFD';

    private const char Cut = '…';

    // Generous for what the fields are meant to hold; tight enough that no record grows large.
    public const int MaxPartnerId = 128;
    public const int MaxPurpose = 64;
    public const int MaxMethod = 200;
    public const int MaxReason = 1000;
    public const int MaxGrant = 128;
    public const int MaxLegalBasis = 500;
    public const int MaxTraceId = 64;
    public const int MaxSubject = 256;

    /// <summary>The entry as the log stores it: every text field bounded and without control characters.</summary>
    public static AuditEntry Clean(AuditEntry entry) => Clean(entry, bounded: true);

    /// <summary>The entry for display: every text field without control characters, however long (a null field stays null).</summary>
    public static AuditEntry Printable(AuditEntry entry) => Clean(entry, bounded: false);

    /// <summary>For display: the same replacement, unbounded.</summary>
    public static string Printable(string? value) => value is null ? "" : Clean(value, int.MaxValue);

    private static AuditEntry Clean(AuditEntry entry, bool bounded)
    {
        int Bound(int max) => bounded ? max : int.MaxValue;
        var clean = entry with
        {
            PartnerId = Clean(entry.PartnerId, Bound(MaxPartnerId)),
            Purpose = Clean(entry.Purpose, Bound(MaxPurpose)),
            Method = Clean(entry.Method, Bound(MaxMethod)),
            Reason = Clean(entry.Reason, Bound(MaxReason)),
            GrantId = CleanOrNull(entry.GrantId, Bound(MaxGrant)),
            GrantVersionHash = CleanOrNull(entry.GrantVersionHash, Bound(MaxGrant)),
            LegalBasis = CleanOrNull(entry.LegalBasis, Bound(MaxLegalBasis)),
            TraceId = CleanOrNull(entry.TraceId, Bound(MaxTraceId)),
            SubjectPseudonym = CleanOrNull(entry.SubjectPseudonym, Bound(MaxSubject)),
        };
        // Equal as a record: nothing changed, so the caller's instance is kept.
        return clean == entry ? entry : clean;
    }

    /// <summary><paramref name="value"/> with control and format characters replaced and cut to <paramref name="maxLength"/> UTF-16 units (on a character boundary, marked with …).</summary>
    public static string Clean(string value, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        if (value.Length <= maxLength && IsPlainAscii(value))
        {
            // The common case (method names, purposes, identifiers) costs no allocation.
            return value;
        }
        var builder = new StringBuilder(Math.Min(value.Length, maxLength));
        // EnumerateRunes yields U+FFFD for a lone surrogate, which UTF-8 (the chain's encoding) cannot carry.
        foreach (var rune in value.EnumerateRunes())
        {
            var shown = IsUnsafe(rune) ? new Rune(Replacement) : rune;
            if (builder.Length + shown.Utf16SequenceLength > maxLength - (value.Length > maxLength ? 1 : 0))
            {
                builder.Append(Cut);
                return builder.ToString();
            }
            builder.Append(shown.ToString());
        }
        return builder.ToString();
    }

    private static string? CleanOrNull(string? value, int maxLength) => value is null ? null : Clean(value, maxLength);

    private static bool IsPlainAscii(string value)
    {
        foreach (var c in value)
        {
            if (c is < ' ' or > '~')
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsUnsafe(Rune rune) => Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate;
}
