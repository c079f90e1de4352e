using Chain.Common.V1;

namespace Ketenmesh.Contracts;

/// <summary>What every service that takes pseudonymous link keys (koppelsleutels) in a request accepts.</summary>
public static class PersonLinkKeys
{
    /// <summary>
    /// More keys than one person has documents, phones and names to derive them from. Each key is a term of the
    /// lookup that matches them, so an unbounded list would let one call build a query of any size.
    /// </summary>
    public const int MaxPerMessage = 20;

    /// <summary>The problems with a request's link keys, each named by its field, as INVALID_ARGUMENT says them.</summary>
    public static IEnumerable<(string Field, string Description)> Problems(IReadOnlyCollection<PersonLinkKey> keys, string field)
    {
        if (keys.Count > MaxPerMessage)
        {
            // Not each key's problem as well: a list this long is refused as a whole.
            yield return (field, $"at most {MaxPerMessage} link keys, not {keys.Count}.");
            yield break;
        }
        var i = 0;
        foreach (var key in keys)
        {
            if (key.Kind == LinkKeyKind.Unspecified || key.KeyedHash.Length is < 16 or > 64 || string.IsNullOrWhiteSpace(key.KeyId))
            {
                yield return ($"{field}[{i}]", "needs a kind, a keyed hash of 16 to 64 bytes and the key id it was made with; never the attribute itself.");
            }
            i++;
        }
    }
}
