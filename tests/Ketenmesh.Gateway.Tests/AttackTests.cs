using Chain.Common.V1;
using Grpc.Core;
using Ketenmesh.Audit;
using Ketenmesh.Gateway.Tests.Support;
using Ketenmesh.Security;
using Ketenmesh.Testing;

namespace Ketenmesh.Gateway.Tests;

/// <summary>
/// Access tokens the identity service never issued, tried at the gateway: each is UNAUTHENTICATED, on record,
/// never forwarded, and another partner is served right after. (docs/security.md lists the results.)
/// </summary>
public sealed class TokenAttackTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ketenmesh-attacks-").FullName;
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(allToContractUpstream: true);

    public async Task DisposeAsync()
    {
        await _mesh.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private string Genuine() => ForgedTokens.Issuer(_mesh).For("police", Purpose.Signalling);

    private async Task<AuditEntry> RefusedAsync(string token)
    {
        var result = await _mesh.Raw.CallAsync(Attacks.ListMySignals, [[]], new Dictionary<string, string> { ["authorization"] = "Bearer " + token, ["x-purpose"] = "signalling" });
        var entry = await _mesh.AssertRefusedAsync(result, StatusCode.Unauthenticated, Attacks.ListMySignals);
        Assert.Equal("unauthenticated", entry.PartnerId);
        Assert.StartsWith("The access token was refused", result.Message);
        return entry;
    }

    [Fact]
    public async Task An_unsigned_token_with_alg_none_is_unauthenticated()
    {
        var entry = await RefusedAsync(ForgedTokens.Unsigned(Genuine()));

        Assert.Contains("signature", entry.Reason);
    }

    [Fact]
    public async Task A_token_signed_hs256_with_the_identitys_published_key_is_unauthenticated()
    {
        using var http = AuthorityHttp.For(_mesh.AddressOf("identity"));
        var published = await http.GetByteArrayAsync(new Uri(_mesh.AddressOf("identity"), "/.well-known/jwks.json"));

        var entry = await RefusedAsync(ForgedTokens.HmacSigned(Genuine(), published));

        Assert.Contains("signature", entry.Reason);
    }

    [Fact]
    public async Task A_token_signed_by_a_key_outside_the_issuers_jwks_is_unauthenticated()
    {
        // Right issuer name, audience and claims; only the key (and so its kid) is not the identity's.
        var rogue = SigningKeyStore.OpenOrCreate(Path.Combine(_directory, "rogue-keys.json"), TimeProvider.System, TimeSpan.FromMinutes(10));

        var entry = await RefusedAsync(ForgedTokens.Issuer(_mesh, keys: rogue).For("police", Purpose.Signalling));

        Assert.Contains("signature does not verify", entry.Reason);
    }

    [Fact]
    public async Task An_expired_token_is_unauthenticated()
    {
        var entry = await RefusedAsync(ForgedTokens.Issuer(_mesh, clock: new ForgedTokens.ShiftedClock(TimeSpan.FromMinutes(-20))).For("police", Purpose.Signalling));

        Assert.Contains("expired", entry.Reason);
    }

    [Fact]
    public async Task A_validly_signed_token_that_lives_ten_years_is_unauthenticated_and_on_record()
    {
        var withinCeiling = await _mesh.Raw.CallAsync(Attacks.ListMySignals, [[]],
            new Dictionary<string, string> { ["authorization"] = "Bearer " + ForgedTokens.LivingFor(_mesh, Genuine(), TimeSpan.FromMinutes(5)), ["x-purpose"] = "signalling" });
        Assert.Equal((int)StatusCode.OK, withinCeiling.Status);
        _mesh.Upstream.Targets.Clear();

        var entry = await RefusedAsync(ForgedTokens.LivingFor(_mesh, Genuine(), TimeSpan.FromDays(3653)));

        Assert.Contains("longer than the 10 the chain allows", entry.Reason);
    }

    [Fact]
    public async Task A_token_for_another_audience_is_unauthenticated()
    {
        var entry = await RefusedAsync(ForgedTokens.Issuer(_mesh, audience: "ketenmesh-registry").For("police", Purpose.Signalling));

        Assert.Contains("wrong aud", entry.Reason);
    }

    [Fact]
    public async Task A_token_signed_with_the_identitys_key_under_another_issuer_name_is_unauthenticated()
    {
        var entry = await RefusedAsync(ForgedTokens.Issuer(_mesh, issuer: "http://identity.elsewhere").For("police", Purpose.Signalling));

        Assert.Contains("issuer", entry.Reason);
    }
}

/// <summary>
/// <c>x-purpose</c> as a careless or crafty client sends it. The gateway fails closed: anything but exactly one
/// chain purpose, as the token spells it, is PERMISSION_DENIED, on record and never forwarded.
/// </summary>
public sealed class PurposeAttackTests : IAsyncLifetime
{
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(allToContractUpstream: true);

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    private async Task<RawCallResult> RefusedAsync(params string[] purposes)
    {
        var metadata = new List<KeyValuePair<string, string>> { new("authorization", "Bearer " + _mesh.Token("police")) };
        metadata.AddRange(purposes.Select(p => new KeyValuePair<string, string>("x-purpose", p)));
        var result = await _mesh.Raw.CallAsync(Attacks.ListMySignals, [[]], metadata);
        var entry = await _mesh.AssertRefusedAsync(result, StatusCode.PermissionDenied, Attacks.ListMySignals);
        Assert.Equal("police", entry.PartnerId);
        Assert.Null(entry.GrantId);
        return result;
    }

    [Fact]
    public async Task A_purpose_in_another_case_is_denied()
    {
        var result = await RefusedAsync("Signalling");

        Assert.Contains("'Signalling' is not a chain purpose", result.Message);
    }

    [Fact]
    public async Task A_purpose_padded_with_whitespace_is_denied()
    {
        var result = await RefusedAsync(" signalling ");

        Assert.Contains("is not a chain purpose", result.Message);
    }

    [Theory]
    [InlineData("signalling", "criminal_investigation")]
    [InlineData("criminal_investigation", "signalling")]
    public async Task Two_purpose_headers_are_denied_whichever_comes_first(string first, string second)
    {
        var result = await RefusedAsync(first, second);

        Assert.Contains("is not a chain purpose", result.Message);
    }

    [Fact]
    public async Task An_empty_purpose_is_denied_as_no_purpose()
    {
        var result = await RefusedAsync("");

        Assert.Contains("declares no purpose", result.Message);
    }
}

/// <summary>
/// Trusted metadata smuggled in, and paths that resemble a granted method. The service sees only the gateway's
/// own transaction token; a path is either refused on record or forwarded as exactly the method decided.
/// </summary>
public sealed class HeaderAndPathAttackTests : IAsyncLifetime
{
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(allToContractUpstream: true);

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task Smuggled_chain_headers_and_transaction_token_never_reach_the_service()
    {
        // A transaction token as good as they come: minted with the gateway's own keys (its data directory), for comensha.
        var forged = TestGateway.UsingKeysOf(_mesh.DataDirectory, _mesh.Gateway).Mint("/" + Attacks.ListMySignals, "comensha", "victim_care");
        var metadata = _mesh.As("police", "signalling");
        metadata["x-chain-partner-id"] = "comensha";
        metadata["x-chain-purpose"] = "victim_care";
        metadata["x-chain-grant-id"] = "comensha-victim-care";
        metadata[TransactionTokens.Header] = forged;

        var result = await _mesh.Raw.CallAsync(Attacks.ListMySignals, [[]], metadata);

        Assert.Equal((int)StatusCode.OK, result.Status);
        var (_, headers) = Assert.Single(_mesh.Upstream.Calls);
        Assert.DoesNotContain(headers.Keys, name => name.StartsWith("x-chain-", StringComparison.OrdinalIgnoreCase));
        var token = Assert.Single(headers[TransactionTokens.Header].ToArray())!;
        Assert.NotEqual(forged, token);
        var validator = new TransactionTokenValidator(_mesh.Gateway, AuthorityHttp.For(_mesh.Gateway), TimeProvider.System);
        var verdict = await validator.ValidateAsync(token, "/" + Attacks.ListMySignals, CancellationToken.None);
        Assert.Equal(("police", "signalling", "police-signalling"), (verdict.Context!.Partner, verdict.Context.Purpose, verdict.Context.GrantId));
        var entry = (await _mesh.AuditAsync()).Last();
        Assert.Equal(("police", "signalling", AuditDecision.Allowed), (entry.PartnerId, entry.Purpose, entry.Decision));
        await _mesh.AssertOthersServedAsync();
    }

    [Theory]
    [InlineData("/chain.signals.v1.SignalIntake/ListMySignals", "/chain.signals.v1.SignalIntake/ListMySignals")]
    [InlineData("chain.signals.v1.SignalIntake//ListMySignals", "chain.signals.v1.SignalIntake//ListMySignals")]
    [InlineData("chain.signals.v1.SignalIntake%2FListMySignals", "chain.signals.v1.SignalIntake%2FListMySignals")]
    [InlineData("chain.signals.v1.SignalIntake%2fListMySignals", "chain.signals.v1.SignalIntake%2fListMySignals")]
    [InlineData("Chain.Signals.V1.signalintake/listmysignals", "Chain.Signals.V1.signalintake/listmysignals")]
    [InlineData("chain.signals.v1.SignalIntake/ListMySignals/", "chain.signals.v1.SignalIntake/ListMySignals/")]
    [InlineData("chain.signals.v1.SignalIntake/ListMySignals%20", "chain.signals.v1.SignalIntake/ListMySignals ")]
    [InlineData("chain.signals.v1.SignalIntake/ListMySignals/%2E%2E/%2E%2E/chain.registry.v1.VictimRegistry/GetRegistration", "chain.registry.v1.VictimRegistry/GetRegistration")]
    [InlineData("chain.signals.v1.SignalIntake/ListMySignals/../../chain.registry.v1.VictimRegistry/GetRegistration", "chain.registry.v1.VictimRegistry/GetRegistration")]
    public async Task A_path_that_resembles_a_granted_method_is_refused_on_record(string path, string decided)
    {
        var result = await _mesh.Raw.CallAsync(path, [[]], _mesh.As("police", "signalling"));

        await _mesh.AssertRefusedAsync(result, StatusCode.PermissionDenied, decided);
    }

    [Theory]
    [InlineData("chain%2Esignals.v1.SignalIntake/ListMySignals")]
    [InlineData("chain.signals.v1.SignalIntake/List%4DySignals")]
    [InlineData("chain.signals.v1.SignalIntake/./ListMySignals")]
    [InlineData("chain.registry.v1.VictimRegistry/%2E%2E/%2E%2E/chain.signals.v1.SignalIntake/ListMySignals")]
    // gRPC has no query string; the service is sent the method decided and nothing beside it.
    [InlineData("chain.signals.v1.SignalIntake/ListMySignals?partner=comensha&purpose=victim_care")]
    [InlineData("chain.signals.v1.SignalIntake/ListMySignals?")]
    public async Task A_path_that_decodes_to_a_granted_method_is_decided_and_forwarded_as_that_method(string path)
    {
        var result = await _mesh.Raw.CallAsync(path, [[]], _mesh.As("police", "signalling"));

        Assert.Equal((int)StatusCode.OK, result.Status);
        // What the gateway decided on is what the service was asked: the same method, under its own grant and mask.
        var entry = (await _mesh.AuditAsync()).Last();
        Assert.Equal((Attacks.ListMySignals, AuditDecision.Allowed, "police-signalling"), (entry.Method, entry.Decision, entry.GrantId));
        Assert.Equal("/" + Attacks.ListMySignals, Assert.Single(_mesh.Upstream.Targets));
        await _mesh.AssertOthersServedAsync();
    }
}

/// <summary>Compressed answers on streams: every message inflated and minimised, none passed on as the service sent it.</summary>
public sealed class MaskAttackTests : IAsyncLifetime
{
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(allToContractUpstream: true);

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task Every_message_of_a_gzip_answered_stream_is_minimised_for_every_seeded_streaming_method()
    {
        var problems = new List<string>();
        var rules = SeedFile.Rules().Where(r => Ketenmesh.Policy.MethodCatalog.Chain.Find(r.Method)!.IsServerStreaming).ToList();
        foreach (var rule in rules)
        {
            var method = Ketenmesh.Policy.MethodCatalog.Chain.Find(rule.Method)!;
            var metadata = _mesh.As(rule.PartnerId, rule.Purpose);
            metadata["x-test-answer"] = "gzip";
            var result = await _mesh.Raw.CallAsync(rule.Method, [SampleMessages.Full(method.InputType)], metadata);
            if (result.Status != (int)StatusCode.OK || result.Messages.Count != ContractUpstream.StreamLength)
            {
                problems.Add($"{rule.GrantId} {rule.Method}: status {result.Status} '{result.Message}', {result.Messages.Count} messages");
                continue;
            }
            foreach (var message in result.Messages)
            {
                var present = WireFields.Present(method.OutputType, message);
                problems.AddRange(present.Where(p => !WireFields.Covered(rule.Mask, p.Path, p.Container)).Select(p => $"{rule.GrantId} {rule.Method}: leaked {p.Path}"));
                if (present.Count == 0)
                {
                    problems.Add($"{rule.GrantId} {rule.Method}: an empty message");
                }
            }
        }

        Assert.Empty(problems);
        // The anonymous batch grant is the one stream with a narrow mask; the others keep '*' but lose unknown fields.
        Assert.Contains(rules, r => r.GrantId == "anonymous-signalling" && r.Method == Attacks.SubmitSignalBatch);
        Assert.True(rules.Count >= 10, $"only {rules.Count} streaming rules");
        await _mesh.AssertOthersServedAsync();
    }
}
