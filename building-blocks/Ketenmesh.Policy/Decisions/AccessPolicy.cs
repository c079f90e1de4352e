using Chain.Policy.V1;

namespace Ketenmesh.Policy.Decisions;

/// <summary>One call, as the gateway knows it before anything is forwarded.</summary>
/// <param name="CertificateBound">The token is bound to the certificate the caller presented (RFC 8705).</param>
public sealed record AccessRequest(string PartnerId, IReadOnlySet<string> TokenPurposes, string? DeclaredPurpose, string Method, bool CertificateBound);

/// <summary>
/// A published policy snapshot, compiled: answers every call with allow (and under which grant and
/// mask) or deny (and why). No snapshot means the empty policy, which denies everything.
/// </summary>
public sealed class AccessPolicy
{
    private readonly Dictionary<(string Partner, string Purpose), List<EnforcedGrant>> _grants = [];

    public AccessPolicy(PolicySnapshot snapshot, MethodCatalog catalog)
    {
        Revision = snapshot.Revision;
        Catalog = catalog;
        var compiled = snapshot.Grants.Where(v => v.State == GrantState.Published).OrderBy(v => v.Grant.GrantId, StringComparer.Ordinal)
            .Select(version => GrantCompiler.Compile(version, catalog)).ToList();
        foreach (var partner in compiled.GroupBy(g => g.Grant.PartnerId, StringComparer.Ordinal).ToList())
        {
            // The policy service refuses a draft whose write shows more than the partner reads; this
            // holds the line for whatever still got published (a read revoked or narrowed later).
            var coverage = ReadCoverage.Of(partner.SelectMany(g => g.MethodNames.Select(m => (m, g.Find(m)!.ResponseMask))));
            foreach (var grant in partner)
            {
                compiled[compiled.IndexOf(grant)] = grant.Clamped(coverage);
            }
        }
        foreach (var grant in compiled)
        {
            var version = grant.Version;
            var key = (version.Grant.PartnerId, grant.Purpose);
            if (!_grants.TryGetValue(key, out var list))
            {
                _grants[key] = list = [];
            }
            list.Add(grant);
        }
    }

    /// <summary>The policy before any snapshot arrived: fail closed.</summary>
    public static AccessPolicy Empty { get; } = new(new PolicySnapshot(), MethodCatalog.Chain);

    public long Revision { get; }

    public MethodCatalog Catalog { get; }

    public bool IsEmpty => _grants.Count == 0;

    public IEnumerable<EnforcedGrant> Grants => _grants.Values.SelectMany(g => g);

    public AccessVerdict Decide(AccessRequest request, DateTimeOffset now)
    {
        if (IsEmpty)
        {
            return AccessVerdict.Deny("The gateway has no published sharing policy, so nothing is allowed. Try again once the policy service has published one.");
        }
        if (string.IsNullOrEmpty(request.DeclaredPurpose))
        {
            return AccessVerdict.Deny($"The call declares no purpose. Send metadata x-purpose with one of your token's purposes: {Granted(request)}.");
        }
        if (!PurposeNames.TryParse(request.DeclaredPurpose, out _))
        {
            return AccessVerdict.Deny($"x-purpose '{Printable(request.DeclaredPurpose)}' is not a chain purpose; use one of your token's purposes: {Granted(request)}.");
        }
        if (!request.TokenPurposes.Contains(request.DeclaredPurpose))
        {
            return AccessVerdict.Deny($"Your token does not carry purpose '{request.DeclaredPurpose}'; it carries: {Granted(request)}. Ask for a token with that scope if your organisation may act for it.");
        }
        EnforcedGrant? first = null;
        string? inactive = null;
        foreach (var grant in _grants.GetValueOrDefault((request.PartnerId, request.DeclaredPurpose), []))
        {
            if (grant.Find(request.Method) is null)
            {
                continue;
            }
            first ??= grant;
            inactive = grant.InactiveReason(now);
            if (inactive is not null)
            {
                continue;
            }
            if (grant.Grant.RequireCertificateBinding && !request.CertificateBound)
            {
                return AccessVerdict.Deny($"Grant '{grant.GrantId}' requires a certificate-bound token (RFC 8705): request the token with your client certificate over mutual TLS and present the same certificate to the gateway.", grant);
            }
            return AccessVerdict.Allow(grant, grant.Find(request.Method)!);
        }
        return first is null ? AccessVerdict.Deny(NoGrantReason(request)) : AccessVerdict.Deny(inactive!, first);
    }

    private static string Granted(AccessRequest request) => string.Join(", ", request.TokenPurposes.Order(StringComparer.Ordinal));

    private string NoGrantReason(AccessRequest request)
    {
        var reason = $"No grant lets partner '{request.PartnerId}' call {request.Method} for purpose '{request.DeclaredPurpose}'.";
        if (Catalog.Find(request.Method) is null)
        {
            return $"{request.Method} is not a method partners can call through the gateway.";
        }
        var otherPurposes = _grants
            .Where(e => e.Key.Partner == request.PartnerId && e.Key.Purpose != request.DeclaredPurpose && e.Value.Any(g => g.Find(request.Method) is not null))
            .Select(e => e.Key.Purpose)
            .Order(StringComparer.Ordinal)
            .ToList();
        return otherPurposes.Count == 0 ? reason : $"{reason} Your grants allow it for: {string.Join(", ", otherPurposes)}.";
    }

    /// <summary>Echoes caller input into a reason without letting it carry control characters or bulk.</summary>
    private static string Printable(string value)
    {
        var clean = new string(value.Where(c => !char.IsControl(c)).Take(64).ToArray());
        return clean.Length < value.Length ? clean + "…" : clean;
    }
}
