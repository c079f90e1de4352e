using System.Diagnostics;
using Chain.Common.V1;
using Chain.Policy.V1;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Ketenmesh.Testing;
using Ketenmesh.Policy;
using Ketenmesh.Policy.Seed;
using Ketenmesh.SharingPolicy.Domain;
using Ketenmesh.SharingPolicy.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Status = Grpc.Core.Status;
using StatusCode = Grpc.Core.StatusCode;

namespace Ketenmesh.SharingPolicy.Tests;

public sealed class SharingPolicyTests
{
    public static TheoryData<string> Providers => ["Sqlite", "Postgres"];

    private static Grant CareGrant(string id = "care-shelter-lookup") => new()
    {
        GrantId = id,
        PartnerId = "care",
        Purpose = Purpose.VictimCare,
        LegalBasis = "AVG art. 6(1)(e); Wmo 2015",
        CovenantReference = "Regional care covenant 2026",
        ValidFrom = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)),
        Methods = { new MethodRule { Method = "chain.shelter.v1.ShelterCapacity/ListWaitingList", ResponseMask = new FieldMask { Paths = { "*" } } } },
    };

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task The_author_cannot_approve_but_a_second_officer_can(string provider)
    {
        await using var mesh = await PolicyMesh.StartAsync(provider);
        var draft = (await mesh.Admin.DraftGrantAsync(new() { Grant = CareGrant() }, mesh.As("privacy-officer-1"))).Version;

        var own = await Assert.ThrowsAsync<RpcException>(() => mesh.Admin.ApproveGrantAsync(new() { VersionHash = draft.VersionHash }, mesh.As("privacy-officer-1")).ResponseAsync);
        var approved = (await mesh.Admin.ApproveGrantAsync(new() { VersionHash = draft.VersionHash }, mesh.As("privacy-officer-2"))).Version;

        Assert.Equal(StatusCode.PermissionDenied, own.StatusCode);
        Assert.Contains("Four eyes", own.Status.Detail);
        Assert.Equal(GrantState.Approved, approved.State);
        Assert.Equal(("privacy-officer-1", "privacy-officer-2"), (approved.DraftedBy, approved.ApprovedBy));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task The_same_content_is_the_same_version_named_by_its_hash(string provider)
    {
        await using var mesh = await PolicyMesh.StartAsync(provider);

        var first = (await mesh.Admin.DraftGrantAsync(new() { Grant = CareGrant() }, mesh.As("privacy-officer-1"))).Version;
        var again = (await mesh.Admin.DraftGrantAsync(new() { Grant = CareGrant() }, mesh.As("privacy-officer-2"))).Version;
        var history = await mesh.Admin.GetGrantAsync(new() { GrantId = "care-shelter-lookup" }, mesh.As("privacy-officer-1"));

        Assert.Equal(GrantVersionHash.Compute(CareGrant()), first.VersionHash);
        Assert.Equal(first.VersionHash, again.VersionHash);
        Assert.Equal("privacy-officer-1", again.DraftedBy);
        Assert.Single(history.Versions);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_published_grant_reaches_the_gateway_and_a_revocation_ends_it_within_two_seconds(string provider)
    {
        await using var mesh = await PolicyMesh.StartAsync(provider);
        await WaitAsync(() => mesh.GatewayPolicy.Value.Revision == 1, TimeSpan.FromSeconds(10));
        var draft = (await mesh.Admin.DraftGrantAsync(new() { Grant = CareGrant() }, mesh.As("privacy-officer-1"))).Version;
        await mesh.Admin.ApproveGrantAsync(new() { VersionHash = draft.VersionHash }, mesh.As("privacy-officer-2"));

        var published = (await mesh.Admin.PublishPolicyAsync(new(), mesh.As("privacy-officer-1"))).Snapshot;
        var applied = await WaitAsync(() => mesh.GatewayPolicy.Value.Grants.Any(g => g.GrantId == "care-shelter-lookup"), TimeSpan.FromSeconds(5));
        await mesh.Admin.RevokeGrantAsync(new() { GrantId = "care-shelter-lookup", Reason = "covenant ended" }, mesh.As("privacy-officer-2"));
        var afterRevoke = (await mesh.Admin.PublishPolicyAsync(new(), mesh.As("privacy-officer-2"))).Snapshot;
        var revoked = await WaitAsync(() => mesh.GatewayPolicy.Value.Grants.All(g => g.GrantId != "care-shelter-lookup"), TimeSpan.FromSeconds(5));

        Assert.Equal(2, published.Revision);
        Assert.Contains(published.Grants, g => g.Grant.GrantId == "care-shelter-lookup" && g.State == GrantState.Published);
        Assert.DoesNotContain(afterRevoke.Grants, g => g.Grant.GrantId == "care-shelter-lookup");
        Assert.True(applied < TimeSpan.FromSeconds(2), $"publication applied after {applied}");
        Assert.True(revoked < TimeSpan.FromSeconds(2), $"revocation applied after {revoked}");
        Assert.Equal(36, afterRevoke.Grants.Count);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Simulation_tells_what_a_partner_would_receive(string provider)
    {
        await using var mesh = await PolicyMesh.StartAsync(provider);
        var officer = mesh.As("privacy-officer-1");

        var care = await mesh.Admin.SimulateAccessAsync(new() { PartnerId = "care", Purpose = Purpose.VictimCare, Method = "chain.registry.v1.VictimRegistry/GetRegistration" }, officer);
        var rapporteur = await mesh.Admin.SimulateAccessAsync(new() { PartnerId = "rapporteur", Purpose = Purpose.Statistics, Method = "chain.registry.v1.VictimRegistry/GetRegistration" }, officer);

        Assert.Equal(AccessDecision.Allowed, care.Decision);
        Assert.Equal("care-victim-care", care.GrantId);
        Assert.Contains("registration.status", care.KeptFields);
        Assert.Contains("registration.link_keys", care.RemovedFields);
        Assert.Contains("registration.aangifte_status", care.RemovedFields);
        Assert.Equal(AccessDecision.Denied, rapporteur.Decision);
        Assert.Empty(rapporteur.KeptFields);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Simulation_with_a_candidate_shows_its_effect_before_it_is_published(string provider)
    {
        await using var mesh = await PolicyMesh.StartAsync(provider);
        var draft = (await mesh.Admin.DraftGrantAsync(new() { Grant = CareGrant() }, mesh.As("privacy-officer-1"))).Version;
        var request = new SimulateAccessRequest { PartnerId = "care", Purpose = Purpose.VictimCare, Method = "chain.shelter.v1.ShelterCapacity/ListWaitingList" };

        var now = await mesh.Admin.SimulateAccessAsync(request, mesh.As("privacy-officer-2"));
        request.CandidateVersionHash = draft.VersionHash;
        var with = await mesh.Admin.SimulateAccessAsync(request, mesh.As("privacy-officer-2"));

        Assert.Equal(AccessDecision.Denied, now.Decision);
        Assert.Equal(AccessDecision.Allowed, with.Decision);
        Assert.Equal(draft.VersionHash, with.VersionHash);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task The_default_policy_is_seeded_once_and_survives_a_restart(string provider)
    {
        var mesh = await PolicyMesh.StartAsync(provider);
        var directory = mesh.Directory;
        var database = mesh.Database;
        var first = await mesh.Admin.ListGrantsAsync(new() { State = GrantState.Published }, mesh.As("privacy-officer-1"));
        await mesh.StopAsync();

        await using var restarted = await PolicyMesh.StartAsync(provider, directory, database);
        var second = await restarted.Admin.ListGrantsAsync(new(), restarted.As("privacy-officer-1"));
        using var call = restarted.Client.PolicyDistribution().WatchPolicy(new WatchPolicyRequest());
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Equal(36, first.Versions.Count);
        Assert.Equal(36, second.Versions.Count);
        Assert.Equal(1, call.ResponseStream.Current.Snapshot.Revision);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_store_seeded_by_an_older_default_policy_follows_the_file_except_where_officers_took_a_grant_over(string provider)
    {
        var file = DefaultPolicy.Grants().Grants;
        Grant added = file[0], changed = file[1], takenOver = file[2];
        var mesh = await PolicyMesh.StartAsync(provider);
        var (directory, database) = (mesh.Directory, mesh.Database);
        // An officer's version of a seeded grant: from then on the grant is the officers'.
        var officers = takenOver.Clone();
        officers.CovenantReference += " (renewed)";
        var draft = (await mesh.Admin.DraftGrantAsync(new() { Grant = officers }, mesh.As("privacy-officer-1"))).Version;
        await mesh.Admin.ApproveGrantAsync(new() { VersionHash = draft.VersionHash }, mesh.As("privacy-officer-2"));
        await mesh.Admin.PublishPolicyAsync(new(), mesh.As("privacy-officer-1"));
        // What an older file left in the store: no version of one grant, another with other content, one the file since dropped.
        await using (var scope = mesh.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<SharingPolicyDbContext>();
            db.Versions.RemoveRange(db.Versions.Where(v => v.GrantId == added.GrantId || v.GrantId == changed.GrantId));
            var older = changed.Clone();
            older.LegalBasis = "an older legal basis";
            var retired = changed.Clone();
            retired.GrantId = "retired-by-the-file";
            var seeded = DefaultPolicy.Snapshot(DateTimeOffset.UtcNow).Grants[0];
            foreach (var grant in new[] { older, retired })
            {
                db.Versions.Add(GrantVersions.ToRow(new GrantVersion
                {
                    Grant = grant,
                    VersionHash = GrantVersionHash.Compute(grant),
                    State = GrantState.Published,
                    DraftedBy = seeded.DraftedBy,
                    DraftedAt = seeded.DraftedAt,
                    ApprovedBy = seeded.ApprovedBy,
                    ApprovedAt = seeded.ApprovedAt,
                }));
            }
            await db.SaveChangesAsync();
        }
        await mesh.StopAsync();

        var restarted = await PolicyMesh.StartAsync(provider, directory, database);
        var policy = (await restarted.Admin.ListGrantsAsync(new() { State = GrantState.Published }, restarted.As("privacy-officer-1"))).Versions;
        var retiredHistory = (await restarted.Admin.GetGrantAsync(new() { GrantId = "retired-by-the-file" }, restarted.As("privacy-officer-1"))).Versions;
        var changedHistory = (await restarted.Admin.GetGrantAsync(new() { GrantId = changed.GrantId }, restarted.As("privacy-officer-1"))).Versions;
        await restarted.StopAsync();
        await using var again = await PolicyMesh.StartAsync(provider, directory, database);
        using var call = again.Client.PolicyDistribution().WatchPolicy(new WatchPolicyRequest());
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Contains(policy, v => v.VersionHash == GrantVersionHash.Compute(added));
        Assert.Contains(policy, v => v.VersionHash == GrantVersionHash.Compute(changed));
        Assert.Contains(changedHistory, v => v.Grant.LegalBasis == "an older legal basis" && v.State == GrantState.Superseded);
        Assert.Contains(policy, v => v.VersionHash == draft.VersionHash);
        Assert.DoesNotContain(policy, v => v.VersionHash == GrantVersionHash.Compute(takenOver));
        Assert.Equal((GrantState.Revoked, DefaultPolicySeeding.NoLongerInTheFile), (retiredHistory.Single().State, retiredHistory.Single().RevocationReason));
        Assert.Equal(file.Count, policy.Count);
        // Revision 1 the seed, 2 the officers', 3 the file's changes; the store as the file says publishes nothing more.
        Assert.Equal(3, call.ResponseStream.Current.Snapshot.Revision);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Watchers_receive_a_publication_as_it_happens(string provider)
    {
        await using var mesh = await PolicyMesh.StartAsync(provider);
        using var call = mesh.Client.PolicyDistribution().WatchPolicy(new WatchPolicyRequest { KnownRevision = 1 });
        var next = call.ResponseStream.MoveNext(CancellationToken.None);
        await Task.Delay(200);
        Assert.False(next.IsCompleted, "a watcher that knows revision 1 must not get it again");

        var started = Stopwatch.StartNew();
        await mesh.Admin.PublishPolicyAsync(new(), mesh.As("privacy-officer-1"));
        Assert.True(await next);

        Assert.Equal(2, call.ResponseStream.Current.Snapshot.Revision);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(2), $"took {started.Elapsed}");
    }

    private static async Task<TimeSpan> WaitAsync(Func<bool> condition, TimeSpan timeout)
    {
        var started = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(started.Elapsed < timeout, $"not within {timeout}");
            await Task.Delay(5);
        }
        return started.Elapsed;
    }
}
