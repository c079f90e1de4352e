using Ketenmesh.Policy;
using Chain.Common.V1;

namespace Ketenmesh.Identity.Domain;

/// <summary>The <c>scope</c> parameter of a token request, checked against what the partner may declare.</summary>
public static class ScopeRequest
{
    /// <returns>
    /// The purposes to put in the token: all of the partner's when no scope is asked for, else exactly
    /// the ones asked for; null with an <c>invalid_scope</c> reason (RFC 6749 §5.2) when any is not allowed.
    /// </returns>
    public static IReadOnlySet<Purpose>? Resolve(Partner partner, string? scope, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(scope))
        {
            return partner.Purposes;
        }

        var purposes = new HashSet<Purpose>();
        foreach (var name in scope.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!PurposeNames.TryParse(name, out var purpose))
            {
                error = $"'{name}' is not a purpose of the chain; use one of: {string.Join(", ", AllScopes())}.";
                return null;
            }

            if (!partner.Purposes.Contains(purpose))
            {
                error = $"Partner '{partner.Id}' may not act for purpose '{name}'; its purposes are: {string.Join(", ", partner.Purposes.Order().Select(PurposeNames.ToScope))}.";
                return null;
            }

            purposes.Add(purpose);
        }

        return purposes;
    }

    static IEnumerable<string> AllScopes() =>
        Enum.GetValues<Purpose>().Where(p => p != Purpose.Unspecified).Select(PurposeNames.ToScope);
}
