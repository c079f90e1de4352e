using System.Text.Json;

namespace Ketenmesh.Gateway.Tests.Support;

/// <summary>One method of a seeded grant, as the policy file says it.</summary>
sealed record SeededRule(string GrantId, string PartnerId, string Purpose, string Method, IReadOnlyList<string> Mask, IReadOnlyList<string> Required);

/// <summary>
/// The default policy read straight from its JSON with System.Text.Json, not through the protobuf
/// types the gateway uses, so the tests' expectations come from the file, not from the code under test.
/// </summary>
static class SeedFile
{
    public static IReadOnlyList<SeededRule> Rules()
    {
        var path = Path.Combine(Repository.Root, "building-blocks", "Ketenmesh.Policy", "Seed", "default-policy.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var rules = new List<SeededRule>();
        foreach (var grant in document.RootElement.GetProperty("grants").EnumerateArray())
        {
            var purpose = grant.GetProperty("purpose").GetString()!["PURPOSE_".Length..].ToLowerInvariant();
            foreach (var method in grant.GetProperty("methods").EnumerateArray())
            {
                var mask = method.GetProperty("responseMask").GetString()!.Split(',').Select(Snake).ToList();
                var required = method.TryGetProperty("requiredRequestFields", out var r) ? r.EnumerateArray().Select(e => e.GetString()!).ToList() : [];
                rules.Add(new SeededRule(grant.GetProperty("grantId").GetString()!, grant.GetProperty("partnerId").GetString()!, purpose,
                    method.GetProperty("method").GetString()!, mask, required));
            }
        }
        return rules;
    }

    private static string Snake(string camelPath) =>
        string.Concat(camelPath.Select(c => char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : c.ToString()));
}
