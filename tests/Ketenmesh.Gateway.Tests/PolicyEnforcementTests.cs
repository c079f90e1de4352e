using System.Collections.Concurrent;
using System.Diagnostics;
using Chain.Policy.V1;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Gateway.Tests.Support;
using Grpc.Core;
using Ketenmesh.Policy.Seed;

namespace Ketenmesh.Gateway.Tests;

/// <summary>The gateway follows the published policy: fails closed without one, applies changes while running.</summary>
public sealed class PolicyEnforcementTests
{
    private const string ListShelters = "chain.shelter.v1.ShelterCapacity/ListShelters";

    [Fact]
    public async Task Without_a_published_policy_everything_is_denied()
    {
        await using var mesh = await GatewayMesh.StartAsync(new PolicySnapshot());

        var result = await mesh.Raw.CallAsync("chain.signals.v1.SignalIntake/ListMySignals", [[]], mesh.As("police", "signalling"));

        Assert.Equal((int)StatusCode.PermissionDenied, result.Status);
        Assert.Contains("no published sharing policy", result.Message);
    }

    [Fact]
    public async Task Revoked_grant_denies_the_next_call_within_two_seconds()
    {
        await using var mesh = await GatewayMesh.StartAsync();
        Assert.Equal((int)StatusCode.OK, (await mesh.Raw.CallAsync(ListShelters, [[]], mesh.As("care", "victim_care"))).Status);

        var revoked = mesh.Policy.Current.Clone();
        revoked.Revision++;
        revoked.Grants.Remove(revoked.Grants.Single(g => g.Grant.GrantId == "care-victim-care"));
        mesh.Policy.Publish(revoked);
        var applied = await mesh.WaitForPolicyAsync(revoked.Revision);

        Assert.True(applied < TimeSpan.FromSeconds(2), $"applied after {applied}");
        var result = await mesh.Raw.CallAsync(ListShelters, [[]], mesh.As("care", "victim_care"));
        Assert.Equal((int)StatusCode.PermissionDenied, result.Status);
    }

    [Fact]
    public async Task Expired_grant_denies_with_the_moment_it_expired()
    {
        var snapshot = DefaultPolicy.Snapshot(DateTimeOffset.UtcNow);
        snapshot.Grants.Single(g => g.Grant.GrantId == "care-victim-care").Grant.ValidUntil = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(-1));
        await using var mesh = await GatewayMesh.StartAsync(snapshot);

        var result = await mesh.Raw.CallAsync(ListShelters, [[]], mesh.As("care", "victim_care"));

        Assert.Equal((int)StatusCode.PermissionDenied, result.Status);
        Assert.Contains("Grant 'care-victim-care' expired at", result.Message);
    }

    [Fact]
    public async Task Grant_not_yet_valid_denies()
    {
        var snapshot = DefaultPolicy.Snapshot(DateTimeOffset.UtcNow);
        snapshot.Grants.Single(g => g.Grant.GrantId == "care-victim-care").Grant.ValidFrom = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(1));
        await using var mesh = await GatewayMesh.StartAsync(snapshot);

        var result = await mesh.Raw.CallAsync(ListShelters, [[]], mesh.As("care", "victim_care"));

        Assert.Equal((int)StatusCode.PermissionDenied, result.Status);
        Assert.Contains("applies from", result.Message);
    }

    [Fact]
    public async Task Partner_over_its_rate_limit_is_told_to_slow_down_and_others_are_not_affected()
    {
        await using var mesh = await GatewayMesh.StartAsync(settings: new()
        {
            ["Gateway:RateLimitPerSecond"] = "10",
            ["Gateway:RateLimitBurst"] = "10",
        });
        var care = mesh.As("care", "victim_care");

        var results = new List<int>();
        for (var i = 0; i < 30; i++)
        {
            results.Add((await mesh.Raw.CallAsync(ListShelters, [[]], care)).Status);
        }
        var shelters = await mesh.Raw.CallAsync(ListShelters, [[]], mesh.As("shelters", "victim_care"));

        Assert.Contains((int)StatusCode.ResourceExhausted, results);
        Assert.True(results.Count(r => r == (int)StatusCode.OK) >= 10, string.Join(",", results));
        Assert.Equal((int)StatusCode.OK, shelters.Status);
        Assert.Contains(await mesh.AuditAsync(), d => d.Decision == Ketenmesh.Audit.AuditDecision.Denied && d.Reason.StartsWith("ResourceExhausted", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_rate_limit_below_ten_a_second_lets_that_many_through_not_ten()
    {
        await using var mesh = await GatewayMesh.StartAsync(settings: new()
        {
            ["Gateway:RateLimitPerSecond"] = "2",
            ["Gateway:RateLimitBurst"] = "2",
        });
        var care = mesh.As("care", "victim_care");

        // Four callers as fast as they are answered, for two seconds and at least 60 calls however slow the
        // machine: at two a second most are refused, at ten a second few would be.
        var statuses = new ConcurrentQueue<int>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var raw = new RawGrpc(mesh.Gateway);
            while (clock.Elapsed < TimeSpan.FromSeconds(2) || statuses.Count < 60)
            {
                statuses.Enqueue((await raw.CallAsync(ListShelters, [[]], care)).Status);
            }
        }));
        var elapsed = clock.Elapsed;

        Assert.All(statuses, s => Assert.Contains(s, new[] { (int)StatusCode.OK, (int)StatusCode.ResourceExhausted }));
        // The burst, then two a second (one token each 500 ms), wherever the last refill fell.
        Assert.InRange(statuses.Count(s => s == (int)StatusCode.OK), 2, 2 + (int)Math.Ceiling(2 * elapsed.TotalSeconds) + 1);
    }
}
