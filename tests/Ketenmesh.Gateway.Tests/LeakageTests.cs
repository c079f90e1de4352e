using Ketenmesh.Gateway.Tests.Support;
using Grpc.Core;
using Ketenmesh.Policy;

namespace Ketenmesh.Gateway.Tests;

/// <summary>
/// Every method of every seeded grant, called through the gateway against a service that fills every
/// field (and one the contracts do not know): nothing outside the grant's mask may arrive, and
/// everything inside it must.
/// </summary>
public sealed class LeakageTests : IAsyncLifetime
{
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(allToContractUpstream: true);

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task No_field_outside_the_grants_mask_leaves_the_gateway_for_any_seeded_method()
    {
        var rules = SeedFile.Rules();
        var problems = new List<string>();
        var streamsChecked = 0;
        foreach (var rule in rules)
        {
            var method = MethodCatalog.Chain.Find(rule.Method) ?? throw new InvalidOperationException(rule.Method);
            var request = SampleMessages.Full(method.InputType);
            var result = await _mesh.Raw.CallAsync(rule.Method, [request], _mesh.As(rule.PartnerId, rule.Purpose));
            if (result.Status != (int)StatusCode.OK)
            {
                problems.Add($"{rule.GrantId} {rule.Method}: status {result.Status} {result.Message}");
                continue;
            }
            var expected = method.IsServerStreaming ? ContractUpstream.StreamLength : 1;
            if (result.Messages.Count != expected)
            {
                problems.Add($"{rule.GrantId} {rule.Method}: {result.Messages.Count} messages, expected {expected}");
            }
            streamsChecked += method.IsServerStreaming ? 1 : 0;
            foreach (var message in result.Messages)
            {
                var present = WireFields.Present(method.OutputType, message);
                problems.AddRange(present.Where(p => !WireFields.Covered(rule.Mask, p.Path, p.Container))
                    .Select(p => $"{rule.GrantId} {rule.Method}: leaked {p.Path}"));
                problems.AddRange(rule.Mask.Where(m => m != "*" && !present.Any(p => p.Path == m || p.Path.StartsWith(m + ".", StringComparison.Ordinal)))
                    .Select(m => $"{rule.GrantId} {rule.Method}: withheld {m}, which the grant allows"));
                if (rule.Mask.Contains("*") && present.Count == 0)
                {
                    problems.Add($"{rule.GrantId} {rule.Method}: a '*' grant received an empty message");
                }
            }
        }

        Assert.Empty(problems);
        Assert.True(rules.Count > 100, $"only {rules.Count} seeded rules were checked");
        Assert.True(streamsChecked >= 10, $"only {streamsChecked} streaming methods were checked");
    }

    /// <summary>
    /// A write answers with the record it changed; what arrives of that record must be what the same
    /// partner receives of it from its reads (any grant, any purpose, wherever the record occurs in the
    /// read's answer), or, for a record it reads nowhere, only the record's id, version and
    /// client_request_id. Read straight from what arrives, so a mask that is only narrow on paper fails too.
    /// </summary>
    [Fact]
    public async Task No_write_answers_a_partner_with_more_of_a_record_than_its_reads_show()
    {
        var rules = SeedFile.Rules();
        var arrived = new Dictionary<SeededRule, List<string>>();
        foreach (var rule in rules)
        {
            var method = MethodCatalog.Chain.Find(rule.Method)!;
            var result = await _mesh.Raw.CallAsync(rule.Method, [SampleMessages.Full(method.InputType)], _mesh.As(rule.PartnerId, rule.Purpose));
            Assert.True(result.Status == (int)StatusCode.OK, $"{rule.GrantId} {rule.Method}: {result.Status} {result.Message}");
            arrived[rule] = result.Messages.SelectMany(m => WireFields.Present(method.OutputType, m)).Select(p => p.Path).Distinct().ToList();
        }
        var problems = new List<string>();
        var writesChecked = 0;
        foreach (var partner in rules.GroupBy(r => r.PartnerId))
        {
            // What the partner's reads show of each record type, relative to that type, at every depth.
            var read = new Dictionary<string, HashSet<string>>();
            foreach (var rule in partner.Where(r => MethodCatalog.IsRead(r.Method)))
            {
                var output = MethodCatalog.Chain.Find(rule.Method)!.OutputType;
                foreach (var path in arrived[rule])
                {
                    var segments = path.Split('.');
                    var type = output;
                    for (var i = 0; i < segments.Length - 1 && type.FindFieldByName(segments[i]) is { FieldType: Google.Protobuf.Reflection.FieldType.Message } field; i++)
                    {
                        type = field.MessageType;
                        (read.TryGetValue(type.FullName, out var shown) ? shown : read[type.FullName] = []).Add(string.Join('.', segments[(i + 1)..]));
                    }
                }
            }
            foreach (var rule in partner.Where(r => !MethodCatalog.IsRead(r.Method)))
            {
                writesChecked++;
                var output = MethodCatalog.Chain.Find(rule.Method)!.OutputType;
                foreach (var path in arrived[rule].Where(p => p.Contains('.')))
                {
                    var top = path[..path.IndexOf('.')];
                    var rest = path[(top.Length + 1)..];
                    if (output.FindFieldByName(top) is not { FieldType: Google.Protobuf.Reflection.FieldType.Message } field)
                    {
                        continue;
                    }
                    var record = field.MessageType;
                    var identifiers = new[] { record.FindFieldByNumber(1)?.Name, "version", "client_request_id" };
                    if (!(read.TryGetValue(record.FullName, out var shown) && shown.Contains(rest)) && !identifiers.Contains(rest))
                    {
                        problems.Add($"{rule.GrantId} {rule.Method}: {path} arrived, which {rule.PartnerId} reads nowhere");
                    }
                }
            }
        }

        Assert.Empty(problems);
        Assert.True(writesChecked > 50, $"only {writesChecked} seeded writes were checked");
    }

    [Fact]
    public async Task Unknown_fields_are_dropped_even_when_the_grant_keeps_everything()
    {
        const string method = "chain.shelter.v1.ShelterCapacity/GetCapacity";
        var result = await _mesh.Raw.CallAsync(method, [[]], _mesh.As("police", "criminal_investigation"));

        Assert.Equal((int)StatusCode.OK, result.Status);
        var present = WireFields.Present(MethodCatalog.Chain.Find(method)!.OutputType, Assert.Single(result.Messages));
        Assert.NotEmpty(present);
        Assert.DoesNotContain(present, p => p.Path.Contains('?'));
    }

    [Fact]
    public async Task Care_partner_receives_care_relevant_registry_fields_only()
    {
        const string method = "chain.registry.v1.VictimRegistry/GetRegistration";
        var result = await _mesh.Raw.CallAsync(method, [[]], _mesh.As("care", "victim_care"));

        Assert.Equal((int)StatusCode.OK, result.Status);
        var paths = WireFields.Present(MethodCatalog.Chain.Find(method)!.OutputType, Assert.Single(result.Messages)).Select(p => p.Path).ToList();
        Assert.Contains("registration.status", paths);
        Assert.Contains(paths, p => p.StartsWith("registration.reflection_period.", StringComparison.Ordinal));
        Assert.DoesNotContain(paths, p => p.StartsWith("registration.link_keys", StringComparison.Ordinal));
        Assert.DoesNotContain(paths, p => p.StartsWith("registration.linked_records", StringComparison.Ordinal));
        Assert.DoesNotContain(paths, p => p.StartsWith("registration.aangifte_status", StringComparison.Ordinal));
    }

    /// <summary>
    /// Where a person is placed is CoMensha's to know (it coordinates every placement); shelter locations are
    /// confidential, so no investigating partner, and no partner whose grant lists fields, reads it off a registration.
    /// </summary>
    [Fact]
    public async Task The_shelter_placement_on_a_registration_reaches_CoMensha_and_no_investigating_partner()
    {
        const string method = "chain.registry.v1.VictimRegistry/GetRegistration";
        async Task<List<string>> ArrivedAsync(string partner, string purpose)
        {
            var result = await _mesh.Raw.CallAsync(method, [[]], _mesh.As(partner, purpose));
            Assert.Equal((int)StatusCode.OK, result.Status);
            return WireFields.Present(MethodCatalog.Chain.Find(method)!.OutputType, Assert.Single(result.Messages)).Select(p => p.Path).ToList();
        }

        Assert.Contains(await ArrivedAsync("comensha", "victim_care"), p => p.StartsWith("registration.shelter_placement.", StringComparison.Ordinal));
        foreach (var (partner, purpose) in new[]
        {
            ("police", "criminal_investigation"), ("kmar", "criminal_investigation"), ("inspectorate", "criminal_investigation"), ("prosecution", "criminal_investigation"),
            ("shelters", "victim_care"), ("care", "victim_care"), ("nidos", "victim_care"), ("ind", "residence"), ("dtv", "return"),
        })
        {
            var arrived = await ArrivedAsync(partner, purpose);
            Assert.Contains("registration.status", arrived);
            Assert.DoesNotContain(arrived, p => p.StartsWith("registration.shelter_placement", StringComparison.Ordinal));
        }
    }

    /// <summary>
    /// Nidos learns of the minors it is guardian of by ListWards: which registration, when, and whether it needs protected
    /// shelter; the rest it reads with GetRegistration under that grant's mask. No other partner lists wards.
    /// </summary>
    [Fact]
    public async Task Nidos_lists_its_wards_by_id_registration_time_and_shelter_need_only_and_no_other_partner_lists_them()
    {
        const string method = "chain.registry.v1.VictimRegistry/ListWards";
        var result = await _mesh.Raw.CallAsync(method, [[]], _mesh.As("nidos", "victim_care"));

        Assert.Equal((int)StatusCode.OK, result.Status);
        var paths = WireFields.Present(MethodCatalog.Chain.Find(method)!.OutputType, Assert.Single(result.Messages)).Select(p => p.Path).ToList();
        Assert.Contains("wards.registration_id", paths);
        Assert.All(paths, p => Assert.True(p is "wards" or "wards.registration_id" or "wards.protected_shelter_needed" or "next_page_token"
            || p.StartsWith("wards.registered_at", StringComparison.Ordinal), p));
        foreach (var (partner, purpose) in new[] { ("comensha", "victim_care"), ("police", "criminal_investigation"), ("care", "victim_care"), ("shelters", "victim_care"), ("ind", "residence") })
        {
            Assert.Equal((int)StatusCode.PermissionDenied, (await _mesh.Raw.CallAsync(method, [[]], _mesh.As(partner, purpose))).Status);
        }
    }
}
