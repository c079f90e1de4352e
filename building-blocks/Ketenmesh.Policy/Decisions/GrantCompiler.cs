using Chain.Common.V1;
using Chain.Policy.V1;
using Google.Protobuf.Reflection;
using Ketenmesh.Policy.Masks;

namespace Ketenmesh.Policy.Decisions;

/// <summary>
/// Checks a grant against the contracts and compiles it for enforcement. The policy service uses
/// the problems to refuse a bad draft; the gateway compiles published grants the same way.
/// </summary>
public static class GrantCompiler
{
    /// <summary>Everything wrong with <paramref name="grant"/>, as field path and problem; empty when it is sound.</summary>
    public static IReadOnlyList<(string Field, string Problem)> Validate(Grant grant, MethodCatalog catalog)
    {
        var problems = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(grant.GrantId) || grant.GrantId.Length > 100)
        {
            problems.Add(("grant.grant_id", "must be set (at most 100 characters)"));
        }
        if (string.IsNullOrWhiteSpace(grant.PartnerId))
        {
            problems.Add(("grant.partner_id", "must name the partner the grant is for"));
        }
        if (grant.Purpose == Purpose.Unspecified || !Enum.IsDefined(grant.Purpose))
        {
            problems.Add(("grant.purpose", "must be one of the chain's purposes"));
        }
        if (string.IsNullOrWhiteSpace(grant.LegalBasis))
        {
            problems.Add(("grant.legal_basis", "must state the legal ground for the processing"));
        }
        if (grant.ValidFrom is null)
        {
            problems.Add(("grant.valid_from", "must be set"));
        }
        if (grant.ValidFrom is not null && grant.ValidUntil is not null && grant.ValidUntil.ToDateTimeOffset() <= grant.ValidFrom.ToDateTimeOffset())
        {
            problems.Add(("grant.valid_until", "must be after valid_from"));
        }
        if (grant.Methods.Count == 0)
        {
            problems.Add(("grant.methods", "must name at least one method"));
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < grant.Methods.Count; i++)
        {
            var rule = grant.Methods[i];
            var field = $"grant.methods[{i}]";
            if (!seen.Add(rule.Method))
            {
                problems.Add(($"{field}.method", $"'{rule.Method}' is named twice"));
                continue;
            }
            var method = catalog.Find(rule.Method);
            if (method is null)
            {
                problems.Add(($"{field}.method", $"'{rule.Method}' is not a chain method (write it as package.Service/Method)"));
                continue;
            }
            if (grant.Purpose == Purpose.Statistics && !MethodCatalog.IsAggregate(rule.Method))
            {
                problems.Add(($"{field}.method", $"a statistics grant may name aggregate methods only; '{rule.Method}' returns individual records"));
            }
            if (rule.ResponseMask is null)
            {
                problems.Add(($"{field}.response_mask", $"must be set; use \"{ResponseMask.Everything}\" to let the whole response through"));
            }
            else
            {
                try
                {
                    ResponseMask.Compile(method.OutputType, rule.ResponseMask.Paths);
                }
                catch (MaskException e)
                {
                    problems.Add(($"{field}.response_mask", e.Message));
                }
            }
            foreach (var name in rule.RequiredRequestFields)
            {
                if (method.InputType.FindFieldByName(name) is null)
                {
                    problems.Add(($"{field}.required_request_fields", $"'{name}' is not a field of {method.InputType.FullName}"));
                }
            }
        }
        return problems;
    }

    /// <summary>
    /// Every write in <paramref name="grants"/> whose answer would show a partner more of a record than
    /// its reads of that record do (see <see cref="ReadCoverage"/>), as grant id, field path and problem.
    /// Pass all of a partner's grants as they would stand: a narrower read can make another grant's write too wide.
    /// </summary>
    public static IReadOnlyList<(string GrantId, string Field, string Problem)> ValidateDisclosure(IEnumerable<Grant> grants, MethodCatalog catalog)
    {
        var problems = new List<(string, string, string)>();
        foreach (var partner in grants.GroupBy(g => g.PartnerId, StringComparer.Ordinal))
        {
            var rules = partner
                .SelectMany(g => g.Methods.Select((rule, index) => (Grant: g, Index: index, Rule: rule, Mask: TryCompile(rule, catalog))))
                .Where(r => r.Mask is not null)
                .ToList();
            var coverage = ReadCoverage.Of(rules.Select(r => (r.Rule.Method, r.Mask!)));
            foreach (var (grant, index, rule, mask) in rules.Where(r => !MethodCatalog.IsRead(r.Rule.Method)))
            {
                var excess = coverage.Excess(mask!);
                if (excess.Count > 0)
                {
                    problems.Add((grant.GrantId, $"grant.methods[{index}].response_mask",
                        $"{rule.Method} would show partner '{partner.Key}' {string.Join(", ", excess)}, which none of its grants lets it read: " +
                        "a write's answer may show no more of a record than the partner's reads of that record do (only the record's id and version when it reads none)"));
                }
            }
        }
        return problems;
    }

    private static ResponseMask? TryCompile(MethodRule rule, MethodCatalog catalog)
    {
        if (catalog.Find(rule.Method) is not { } method || rule.ResponseMask is null)
        {
            return null;
        }
        try
        {
            return ResponseMask.Compile(method.OutputType, rule.ResponseMask.Paths);
        }
        catch (MaskException)
        {
            return null;
        }
    }

    /// <summary>Compiles a published version; a method this build does not know is left out (denied), never guessed.</summary>
    public static EnforcedGrant Compile(GrantVersion version, MethodCatalog catalog)
    {
        var methods = new Dictionary<string, MethodAccess>(StringComparer.Ordinal);
        foreach (var rule in version.Grant.Methods)
        {
            if (catalog.Find(rule.Method) is not { } method || rule.ResponseMask is null)
            {
                continue;
            }
            ResponseMask mask;
            try
            {
                mask = ResponseMask.Compile(method.OutputType, rule.ResponseMask.Paths);
            }
            catch (MaskException)
            {
                continue;
            }
            var required = new List<FieldDescriptor>();
            var complete = true;
            foreach (var name in rule.RequiredRequestFields)
            {
                if (method.InputType.FindFieldByName(name) is { } f)
                {
                    required.Add(f);
                }
                else
                {
                    complete = false;
                }
            }
            // A precondition we cannot check must not silently become no precondition.
            if (complete)
            {
                methods[rule.Method] = new MethodAccess(method, mask, required);
            }
        }
        return new EnforcedGrant(version, methods);
    }
}
