using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Ketenmesh.Domain;

/// <summary>
/// An opaque keyset cursor over a moment and an id, for lists ordered by both: stable while records come in, unlike
/// offsets. A token this service did not hand out is refused by field.
/// </summary>
public static class KeysetPageToken
{
    public static string Create(DateTime at, string id) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{at.Ticks.ToString(CultureInfo.InvariantCulture)}|{id}"));

    public static (DateTime At, string Id) Parse(string token)
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
