using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Ketenmesh.Domain;

namespace Ketenmesh.Signals.Domain;

/// <summary>An opaque keyset cursor: stable under inserts, unlike offsets.</summary>
internal static class PageToken
{
    public static string Create(DateTime receivedAt, string signalId) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{receivedAt.Ticks.ToString(CultureInfo.InvariantCulture)}|{signalId}"));

    public static (DateTime ReceivedAt, string SignalId) Parse(string token)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            var separator = text.IndexOf('|', StringComparison.Ordinal);
            if (separator > 0 && long.TryParse(text.AsSpan(0, separator), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                && ticks <= DateTime.MaxValue.Ticks)
            {
                return (new DateTime(ticks, DateTimeKind.Utc), text[(separator + 1)..]);
            }
        }
        catch (FormatException)
        {
        }
        throw new InvalidRequest("page_token is not one this service handed out.", [("page_token", "pass next_page_token from the previous page unchanged")]);
    }
}
