using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Ketenmesh.Grpc.Protocol;

/// <summary>Maps HTTP/2 header fields to <see cref="Metadata"/> and back; binary values are base64.</summary>
internal static class MetadataCodec
{
    public static Metadata FromHeaders(IEnumerable<KeyValuePair<string, StringValues>> headers)
    {
        var metadata = new Metadata();
        foreach (var (name, values) in headers)
        {
            if (GrpcHeaders.IsReserved(name))
            {
                continue;
            }
            AddValues(metadata, name.ToLowerInvariant(), values);
        }
        return metadata;
    }

    public static void AddValues(Metadata metadata, string key, StringValues values)
    {
        var binary = Metadata.IsBinaryKey(key);
        foreach (var value in values)
        {
            if (value is null)
            {
                continue;
            }
            if (!binary)
            {
                metadata.Add(new Metadata.Entry(key, value));
                continue;
            }
            // Several binary values may arrive joined by commas; each is base64, padded or not.
            foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                metadata.Add(new Metadata.Entry(key, DecodeBase64(part)));
            }
        }
    }

    public static string ToHeaderValue(Metadata.Entry entry) =>
        entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value;

    public static void WriteTo(Metadata metadata, IHeaderDictionary headers)
    {
        foreach (var entry in metadata)
        {
            headers.Append(entry.Key, ToHeaderValue(entry));
        }
    }

    public static byte[] DecodeBase64(string value)
    {
        var padding = (4 - value.Length % 4) % 4;
        var padded = padding == 0 ? value : value + new string('=', padding);
        try
        {
            return Convert.FromBase64String(padded);
        }
        catch (FormatException)
        {
            throw new RpcException(new Status(StatusCode.Internal, "A '-bin' metadata value is not valid base64."));
        }
    }
}
