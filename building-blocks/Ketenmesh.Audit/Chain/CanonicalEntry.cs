using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Ketenmesh.Audit.Chain;

/// <summary>
/// The bytes an entry is hashed over, fixed forever for format version 1: the version byte, then
/// every field in declaration order, each as a 4-byte big-endian length and its UTF-8 bytes (length
/// −1 for null, so null and empty differ). Time is Unix milliseconds as decimal text, decision and
/// class as their numbers. Changing this breaks every existing chain: add a version instead.
/// Version 2 (a record that stands for more than one call, <see cref="AuditEntry.Count"/> above 1) is
/// version 1's fields followed by the count, as decimal text. A record of one call is encoded as version
/// 1 still, so every record written before counts existed verifies as it did.
/// </summary>
internal static class CanonicalEntry
{
    public const byte Version = 1;

    public const byte CountedVersion = 2;

    /// <summary>The chain's starting point: SHA-256 of the text below, so no record can pose as the first by accident.</summary>
    public static readonly byte[] Genesis = SHA256.HashData(Encoding.UTF8.GetBytes("ketenmesh audit log v1 genesis"));

    public static byte[] Encode(AuditEntry entry)
    {
        using var buffer = new MemoryStream();
        if (entry.Count < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(entry), entry.Count, "An audit record stands for one call or more.");
        }
        buffer.WriteByte(entry.Count == 1 ? Version : CountedVersion);
        Field(buffer, entry.Time.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Field(buffer, entry.PartnerId);
        Field(buffer, entry.Purpose);
        Field(buffer, entry.Method);
        Field(buffer, ((int)entry.Decision).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Field(buffer, entry.Reason);
        Field(buffer, entry.GrantId);
        Field(buffer, entry.GrantVersionHash);
        Field(buffer, entry.LegalBasis);
        Field(buffer, entry.TraceId);
        Field(buffer, entry.SubjectPseudonym);
        Field(buffer, ((int)entry.RecordClass).ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (entry.Count != 1)
        {
            Field(buffer, entry.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return buffer.ToArray();
    }

    public static byte[] Digest(AuditEntry entry) => SHA256.HashData(Encode(entry));

    /// <summary>hash(n) = SHA-256(hash(n−1) ‖ digest(n)).</summary>
    public static byte[] Link(byte[] previousHash, byte[] digest)
    {
        Span<byte> joined = stackalloc byte[64];
        previousHash.CopyTo(joined);
        digest.CopyTo(joined[32..]);
        return SHA256.HashData(joined);
    }

    private static void Field(Stream buffer, string? value)
    {
        Span<byte> length = stackalloc byte[4];
        if (value is null)
        {
            BinaryPrimitives.WriteInt32BigEndian(length, -1);
            buffer.Write(length);
            return;
        }
        var bytes = Encoding.UTF8.GetBytes(value);
        BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
        buffer.Write(length);
        buffer.Write(bytes);
    }
}
