using Chain.Audit.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ketenmesh.Audit.Chain;
using Ketenmesh.Audit.Storage;
using Ketenmesh.Gateway.Tests.Support;
using Ketenmesh.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Gateway.Tests;

/// <summary>
/// The audit trail's officer side on the running gateway, on SQLite and PostgreSQL: the search of every partner's
/// decisions, the chain verification with its last checkpoint, and the subject report with what the subject is not shown.
/// </summary>
public sealed class AuditOfficerTrailTests
{
    public static TheoryData<string> Providers => ["Sqlite", "Postgres"];

    private const string Lookup = "chain.registry.v1.VictimRegistry/GetRegistration";

    /// <summary>A gateway with four lookups on record: care's, the police's for an investigation (confidential), the police's for statistics (refused) and the rapporteur's.</summary>
    private sealed class Officers : IAsyncDisposable
    {
        private readonly TestDatabase? _database;

        private Officers(GatewayMesh mesh, TestDatabase? database)
        {
            Mesh = mesh;
            _database = database;
        }

        public GatewayMesh Mesh { get; }

        public AuditTrail.AuditTrailClient Trail => Mesh.Channel.AuditTrail();

        public CallOptions Officer => GatewayMesh.Options(Mesh.AsOfficer());

        public static async Task<Officers> StartAsync(string provider, Dictionary<string, string?>? extra = null)
        {
            var database = provider == "Postgres" ? await TestDatabase.CreateAsync("gateway_audit") : null;
            var settings = new Dictionary<string, string?>(extra ?? []) { ["Components:gateway:Audit:CheckpointInterval"] = "2" };
            if (database is not null)
            {
                settings["Components:gateway:Database:Provider"] = "Postgres";
                settings["Components:gateway:Database:ConnectionString"] = database.ConnectionString;
            }
            var mesh = await GatewayMesh.StartAsync(settings: settings, allToContractUpstream: true);
            var request = new Chain.Registry.V1.GetRegistrationRequest { RegistrationId = "reg-42" }.ToByteArray();
            await mesh.Raw.CallAsync(Lookup, [request], mesh.As("care", "victim_care"));
            await mesh.Raw.CallAsync(Lookup, [request], mesh.As("police", "criminal_investigation"));
            await mesh.Raw.CallAsync(Lookup, [request], mesh.As("police", "statistics"));
            await mesh.Raw.CallAsync(Lookup, [request], mesh.As("rapporteur", "statistics"));
            return new Officers(mesh, database);
        }

        public async Task<List<Decision>> SearchAllAsync(SearchDecisionsRequest request)
        {
            var found = new List<Decision>();
            while (true)
            {
                var page = await Trail.SearchDecisionsAsync(request, Officer).ResponseAsync;
                found.AddRange(page.Decisions);
                if (page.NextAfterSequence == 0)
                {
                    return found;
                }
                request = request.Clone();
                request.AfterSequence = page.NextAfterSequence;
            }
        }

        /// <summary>A change as the table's owner could make it: triggers off, plain SQL behind the gateway's back.</summary>
        public async Task TamperAsync(string sql)
        {
            await using var scope = Mesh.Services.CreateAsyncScope();
            var database = scope.ServiceProvider.GetRequiredService<AuditDbContext>().Database;
            await database.ExecuteSqlRawAsync(_database is not null
                ? "ALTER TABLE audit_records DISABLE TRIGGER USER"
                : "DROP TRIGGER IF EXISTS audit_records_purge_only");
            await database.ExecuteSqlRawAsync(sql);
        }

        public async ValueTask DisposeAsync()
        {
            await Mesh.DisposeAsync();
            if (_database is not null)
            {
                await _database.DisposeAsync();
            }
        }
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task An_officers_search_narrows_by_partner_purpose_method_outcome_and_time(string provider)
    {
        await using var officers = await Officers.StartAsync(provider);
        var setUp = await officers.Mesh.AuditAfterAsync(0);
        var last = setUp[^1];
        // The set-up's records and nothing after them: a bound on time just past the last one.
        var within = new SearchDecisionsRequest { ToTime = Timestamp.FromDateTimeOffset(last.Entry.Time.AddMilliseconds(1)) };
        // A search in the same millisecond as the last record would fall within too: compare the set-up's records only.
        List<long> Ours(List<Decision> found) => found.Where(d => d.Sequence <= last.Sequence).Select(d => d.Sequence).ToList();
        List<long> Expected(Func<Ketenmesh.Audit.AuditEntry, bool> match) => setUp.Where(r => match(r.Entry)).Select(r => r.Sequence).ToList();

        var all = await officers.SearchAllAsync(within);
        var police = await officers.SearchAllAsync(new SearchDecisionsRequest(within) { PartnerId = "police" });
        var statistics = await officers.SearchAllAsync(new SearchDecisionsRequest(within) { Purpose = "statistics" });
        var lookups = await officers.SearchAllAsync(new SearchDecisionsRequest(within) { Method = Lookup });
        var denied = await officers.SearchAllAsync(new SearchDecisionsRequest(within) { Outcome = Outcome.Denied });
        var allowed = await officers.SearchAllAsync(new SearchDecisionsRequest(within) { Outcome = Outcome.Allowed });
        var afterwards = await officers.SearchAllAsync(new SearchDecisionsRequest { FromTime = within.ToTime });
        var lookupsEver = await officers.SearchAllAsync(new SearchDecisionsRequest { Method = Lookup });

        // Every partner's decisions, the investigation's too: the officer is not the data subject.
        Assert.Equal(Expected(_ => true), Ours(all));
        Assert.Equal(["care", "police", "rapporteur"], all.Where(d => d.Method == Lookup).Select(d => d.PartnerId).Distinct().Order());
        Assert.Contains(all, d => d.GrantId == "police-criminal-investigation");
        Assert.Equal(Expected(e => e.PartnerId == "police"), Ours(police));
        Assert.Equal(Expected(e => e.Purpose == "statistics"), Ours(statistics));
        Assert.Equal(Expected(e => e.Method == Lookup), Ours(lookups));
        Assert.Equal(Expected(e => e.Decision == Ketenmesh.Audit.AuditDecision.Denied), Ours(denied));
        Assert.Equal(Expected(e => e.Decision == Ketenmesh.Audit.AuditDecision.Allowed), Ours(allowed));
        // Each filter leaves something out, and finds something.
        Assert.All(new[] { police, statistics, denied, allowed }, found => Assert.InRange(Ours(found).Count, 1, setUp.Count - 1));
        Assert.Contains(denied, d => d is { PartnerId: "police", Purpose: "statistics" });
        // After the bound: only the searches themselves, which a method filter leaves out.
        Assert.Empty(Ours(afterwards));
        Assert.Contains(afterwards, d => d.Method == "chain.audit.v1.AuditTrail/SearchDecisions");
        Assert.All(lookupsEver, d => Assert.Equal(Lookup, d.Method));
        Assert.Equal(Expected(e => e.Method == Lookup), lookupsEver.Select(d => d.Sequence));
        // Oldest first.
        Assert.Equal(all.Select(d => d.Sequence).Order(), all.Select(d => d.Sequence));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Search_pages_of_one_neither_skip_nor_repeat_a_decision(string provider)
    {
        await using var officers = await Officers.StartAsync(provider);
        var to = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);

        var whole = await officers.Trail.SearchDecisionsAsync(new SearchDecisionsRequest { ToTime = to }, officers.Officer).ResponseAsync;
        var paged = await officers.SearchAllAsync(new SearchDecisionsRequest { ToTime = to, PageSize = 1 });

        Assert.True(whole.Decisions.Count >= 4, $"{whole.Decisions.Count} decisions");
        Assert.Equal(0, whole.NextAfterSequence);
        Assert.Equal(whole.Decisions.Select(d => d.Sequence), paged.Select(d => d.Sequence));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task An_officers_search_is_itself_on_record(string provider)
    {
        await using var officers = await Officers.StartAsync(provider);

        await officers.Trail.SearchDecisionsAsync(new SearchDecisionsRequest { PartnerId = "police" }, officers.Officer).ResponseAsync;
        var later = await officers.Trail.SearchDecisionsAsync(new SearchDecisionsRequest { Method = "chain.audit.v1.AuditTrail/SearchDecisions" }, officers.Officer).ResponseAsync;

        var audit = await officers.Mesh.AuditAsync();
        Assert.Equal(2, audit.Count(e => e is { PartnerId: "privacy-officer-1", Method: "chain.audit.v1.AuditTrail/SearchDecisions", Decision: Ketenmesh.Audit.AuditDecision.Allowed }));
        // Recorded before it reads: the second search finds the first and itself.
        Assert.Equal(2, later.Decisions.Count);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_partners_token_may_neither_search_nor_verify(string provider)
    {
        await using var officers = await Officers.StartAsync(provider);
        var police = GatewayMesh.Options(officers.Mesh.As("police", null));

        var search = await Assert.ThrowsAsync<RpcException>(() => officers.Trail.SearchDecisionsAsync(new SearchDecisionsRequest { PartnerId = "police" }, police).ResponseAsync);
        var verify = await Assert.ThrowsAsync<RpcException>(() => officers.Trail.VerifyChainAsync(new VerifyChainRequest(), police).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, search.StatusCode);
        Assert.Contains("privacy officers", search.Status.Detail);
        Assert.Equal(StatusCode.PermissionDenied, verify.StatusCode);
        var refusals = (await officers.Mesh.AuditAsync()).Where(e => e is { PartnerId: "police", Decision: Ketenmesh.Audit.AuditDecision.Denied } && e.Method.StartsWith("chain.audit.v1.AuditTrail/", StringComparison.Ordinal));
        Assert.Contains(refusals, e => e.Method == "chain.audit.v1.AuditTrail/SearchDecisions");
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_fresh_log_verifies_intact_with_its_last_signed_checkpoint(string provider)
    {
        await using var officers = await Officers.StartAsync(provider);
        var signer = officers.Mesh.Services.GetRequiredService<CheckpointSigner>();

        VerifyChainResponse result = null!;
        await Eventually.SucceedsAsync(async () =>
        {
            result = await officers.Trail.VerifyChainAsync(new VerifyChainRequest(), officers.Officer).ResponseAsync;
            Assert.NotNull(result.LastCheckpoint);
        }, TimeSpan.FromSeconds(10));
        var head = (await officers.Mesh.AuditAfterAsync(result.LastCheckpoint.Sequence - 1))[0];

        Assert.True(result.Intact, $"{result.FirstBrokenSequence} {result.FirstBrokenKind}: {result.FirstBrokenReason}");
        Assert.Equal(0, result.FirstBrokenSequence);
        Assert.Equal(1, result.FromSequence);
        Assert.Equal(0, result.NextFromSequence);
        Assert.True(result.RecordsChecked >= 5, $"{result.RecordsChecked} records");
        Assert.True(result.CheckpointsChecked >= 1, $"{result.CheckpointsChecked} checkpoints");
        Assert.True(result.LastCheckpoint.SignatureVerifies);
        Assert.Equal(signer.KeyId, result.LastCheckpoint.KeyId);
        Assert.Equal(head.Hash, result.LastCheckpoint.HeadHash);
        Assert.InRange(result.LastCheckpoint.Time.ToDateTimeOffset(), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_record_changed_in_the_database_is_named_as_the_first_broken(string provider)
    {
        await using var officers = await Officers.StartAsync(provider);
        var police = (await officers.Mesh.AuditAsync()).FindIndex(e => e is { PartnerId: "police", Purpose: "statistics" }) + 1;

        await officers.TamperAsync($"UPDATE audit_records SET decision = 1 WHERE sequence = {police}");
        var result = await officers.Trail.VerifyChainAsync(new VerifyChainRequest(), officers.Officer).ResponseAsync;
        var later = await officers.Trail.VerifyChainAsync(new VerifyChainRequest { FromSequence = police + 1 }, officers.Officer).ResponseAsync;

        Assert.False(result.Intact);
        Assert.Equal(police, result.FirstBrokenSequence);
        Assert.Equal(ChainProblemKind.Changed, result.FirstBrokenKind);
        Assert.Contains("digest", result.FirstBrokenReason);
        Assert.Equal(1, result.Problems);
        // A slice past the change does not see it.
        Assert.True(later.Intact, $"{later.FirstBrokenSequence} {later.FirstBrokenKind}");
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_slice_checks_at_most_max_records_and_says_where_to_go_on(string provider)
    {
        await using var officers = await Officers.StartAsync(provider);

        var first = await officers.Trail.VerifyChainAsync(new VerifyChainRequest { MaxRecords = 2 }, officers.Officer).ResponseAsync;
        var second = await officers.Trail.VerifyChainAsync(new VerifyChainRequest { FromSequence = first.NextFromSequence, MaxRecords = 2 }, officers.Officer).ResponseAsync;

        Assert.Equal((2L, 3L), (first.RecordsChecked, first.NextFromSequence));
        Assert.Equal((3L, 2L, 5L), (second.FromSequence, second.RecordsChecked, second.NextFromSequence));
        Assert.True(first.Intact && second.Intact);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_slice_whose_time_is_spent_stops_after_one_chunk_and_the_next_goes_on_from_there(string provider)
    {
        await using var officers = await Officers.StartAsync(provider, new()
        {
            // No time for a slice beyond its first chunk of 2,000 records.
            ["Gateway:AuditVerifySlice"] = "00:00:00",
            ["Components:gateway:Audit:AppendTimeout"] = "00:01:00",
        });
        var log = officers.Mesh.Services.GetRequiredService<Ketenmesh.Audit.AuditLog>();
        var now = DateTimeOffset.UtcNow;
        await Task.WhenAll(Enumerable.Range(1, 2500).Select(n => log.AppendAsync(new Ketenmesh.Audit.AuditEntry(
            now, "care", "victim_care", Lookup, Ketenmesh.Audit.AuditDecision.Allowed, "bulk", null, null, null, null, null, Ketenmesh.Audit.AuditRecordClass.Access)).AsTask()));

        var first = await officers.Trail.VerifyChainAsync(new VerifyChainRequest(), officers.Officer).ResponseAsync;
        var second = await officers.Trail.VerifyChainAsync(new VerifyChainRequest { FromSequence = first.NextFromSequence }, officers.Officer).ResponseAsync;

        Assert.Equal((2000L, 2001L), (first.RecordsChecked, first.NextFromSequence));
        Assert.Equal(2001, second.FromSequence);
        Assert.True(second.RecordsChecked >= 505, $"{second.RecordsChecked} records");
        Assert.Equal(0, second.NextFromSequence);
        Assert.True(first.Intact && second.Intact);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task The_officer_can_have_the_withheld_entries_marked_and_without_asking_gets_todays_report(string provider)
    {
        await using var officers = await Officers.StartAsync(provider);
        var investigation = (await officers.Mesh.AuditAsync()).FindIndex(e => e.GrantId == "police-criminal-investigation") + 1;

        var marked = await officers.Trail.GetSubjectAccessReportAsync(new GetSubjectAccessReportRequest { SubjectPseudonym = "registration_id:reg-42", IncludeWithheld = true }, officers.Officer).ResponseAsync;
        var plain = await officers.Trail.GetSubjectAccessReportAsync(new GetSubjectAccessReportRequest { SubjectPseudonym = "registration_id:reg-42" }, officers.Officer).ResponseAsync;

        var withheld = Assert.Single(marked.Accesses, a => a.WithheldFromSubject);
        Assert.Equal((investigation, "police"), (withheld.Sequence, withheld.PartnerId));
        Assert.Contains(marked.Accesses, a => a is { PartnerId: "care", WithheldFromSubject: false });
        Assert.Equal(1, marked.Withheld);
        Assert.DoesNotContain(plain.Accesses, a => a.Sequence == investigation || a.WithheldFromSubject);
        // Everything else the officer was shown is in the plain report (which also holds the first report, itself an access to the subject).
        Assert.Subset(plain.Accesses.Select(a => a.Sequence).ToHashSet(), marked.Accesses.Where(a => !a.WithheldFromSubject).Select(a => a.Sequence).ToHashSet());
        Assert.Equal(1, plain.Withheld);
        Assert.Contains(await officers.Mesh.AuditAsync(), e => e.Method == "chain.audit.v1.AuditTrail/GetSubjectAccessReport" && e.Reason.Contains("withheld", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Bad_officer_requests_name_the_field(string provider)
    {
        await using var officers = await Officers.StartAsync(provider);

        var outcome = await Assert.ThrowsAsync<RpcException>(() => officers.Trail.SearchDecisionsAsync(new SearchDecisionsRequest { Outcome = (Outcome)7 }, officers.Officer).ResponseAsync);
        var page = await Assert.ThrowsAsync<RpcException>(() => officers.Trail.SearchDecisionsAsync(new SearchDecisionsRequest { PageSize = -1 }, officers.Officer).ResponseAsync);
        var records = await Assert.ThrowsAsync<RpcException>(() => officers.Trail.VerifyChainAsync(new VerifyChainRequest { MaxRecords = -1 }, officers.Officer).ResponseAsync);

        Assert.Equal((StatusCode.InvalidArgument, true), (outcome.StatusCode, outcome.Status.Detail.Contains("outcome", StringComparison.Ordinal)));
        Assert.Equal((StatusCode.InvalidArgument, true), (page.StatusCode, page.Status.Detail.Contains("page_size", StringComparison.Ordinal)));
        Assert.Equal((StatusCode.InvalidArgument, true), (records.StatusCode, records.Status.Detail.Contains("max_records", StringComparison.Ordinal)));
    }
}
