using Chain.Audit.V1;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Audit;
using Ketenmesh.Audit.Chain;
using Ketenmesh.Audit.Reading;
using Ketenmesh.Gateway.Access;
using Grpc.Core;
using Ketenmesh.Hosting.GrpcServer;
using Ketenmesh.Security;
using Microsoft.Extensions.Options;

namespace Ketenmesh.Gateway.Trail;

/// <summary>
/// chain.audit.v1.AuditTrail, served by the gateway itself: the log read back by those it concerns.
/// Its rules are fixed, not granted: a partner sees only its own decisions, and only a privacy
/// officer sees who accessed a subject. Each read is itself a decision on record. Each call is charged
/// to the caller's limit on the gateway's own services by what it reads (<see cref="OwnServiceGuard"/>);
/// what it answers, the reader has made printable (<see cref="AuditReader"/>).
/// </summary>
public sealed class AuditTrailService(
    OwnServiceGuard guard, AuditReader reader, AuditVerifier verifier, ChainVerificationGate verificationGate, IOptions<GatewayOptions> options, TimeProvider clock)
    : AuditTrail.AuditTrailBase
{
    private const string OfficerScope = "policy_admin";

    /// <summary>A VerifyChain slice's records when the request names none, and the most it may name.</summary>
    private const long DefaultVerifyRecords = 100_000, MaxVerifyRecords = 1_000_000;

    /// <summary>The longest filter value: names of partners, purposes and methods are far shorter.</summary>
    private const int MaxFilterLength = 200;

    public override async Task<ListMyDecisionsResponse> ListMyDecisions(ListMyDecisionsRequest request, ServerCallContext context)
    {
        var caller = await guard.AuthenticateAsync(context);
        var violations = new List<(string, string)>();
        var (pageSize, from, to) = PageAndRange(request.PageSize, request.AfterSequence, request.FromTime, request.ToTime, violations);
        if (violations.Count > 0)
        {
            throw Invalid(violations);
        }
        await guard.ChargeAsync(context, caller, OwnServiceGuard.PermitsFor(pageSize));
        await guard.RecordAsync(context, caller.PartnerId, allowed: true, "own decisions are always the partner's to read", subject: null);
        var page = await reader.ForPartnerAsync(caller.PartnerId, from, to, pageSize, request.AfterSequence, context.CancellationToken);
        var response = new ListMyDecisionsResponse { NextAfterSequence = page.Count == pageSize ? page[^1].Sequence : 0 };
        response.Decisions.AddRange(page.Select(ToDecision));
        return response;
    }

    public override async Task<SearchDecisionsResponse> SearchDecisions(SearchDecisionsRequest request, ServerCallContext context)
    {
        var officer = await RequireOfficerAsync(context, "SearchDecisions");
        var violations = new List<(string, string)>();
        var (pageSize, _, _) = PageAndRange(request.PageSize, request.AfterSequence, request.FromTime, request.ToTime, violations);
        foreach (var (field, value) in new[] { ("partner_id", request.PartnerId), ("purpose", request.Purpose), ("method", request.Method) })
        {
            if (value.Length > MaxFilterLength)
            {
                violations.Add((field, $"must be at most {MaxFilterLength} characters (empty means any)."));
            }
        }
        if (!System.Enum.IsDefined(request.Outcome))
        {
            violations.Add(("outcome", "must be OUTCOME_UNSPECIFIED (either), OUTCOME_ALLOWED or OUTCOME_DENIED."));
        }
        if (violations.Count > 0)
        {
            throw Invalid(violations);
        }
        await guard.ChargeAsync(context, officer, OwnServiceGuard.PermitsFor(pageSize));
        await guard.RecordAsync(context, officer.PartnerId, allowed: true, "decision search by a privacy officer", subject: null);
        var search = new AuditSearch(
            NullIfEmpty(request.PartnerId), NullIfEmpty(request.Purpose), NullIfEmpty(request.Method),
            request.Outcome switch { Outcome.Allowed => AuditDecision.Allowed, Outcome.Denied => AuditDecision.Denied, _ => null },
            // An unset bound is left open rather than set to the epoch or now, so the database is not handed a range
            // that covers the whole log (to_time unset means now: nothing later than the call is on record yet but itself).
            request.FromTime?.ToDateTimeOffset(), request.ToTime?.ToDateTimeOffset());
        var page = await reader.SearchAsync(search, pageSize, request.AfterSequence, context.CancellationToken);
        var response = new SearchDecisionsResponse { NextAfterSequence = page.Count == pageSize ? page[^1].Sequence : 0 };
        response.Decisions.AddRange(page.Select(ToDecision));
        return response;
    }

    public override async Task<VerifyChainResponse> VerifyChain(VerifyChainRequest request, ServerCallContext context)
    {
        var officer = await RequireOfficerAsync(context, "VerifyChain");
        var violations = new List<(string, string)>();
        if (request.FromSequence < 0)
        {
            violations.Add(("from_sequence", "must not be negative (0 or 1 means from the start)."));
        }
        if (request.MaxRecords < 0)
        {
            violations.Add(("max_records", $"must not be negative (0 means {DefaultVerifyRecords}; above {MaxVerifyRecords} means {MaxVerifyRecords})."));
        }
        if (violations.Count > 0)
        {
            throw Invalid(violations);
        }
        var from = Math.Max(1, request.FromSequence);
        var maxRecords = request.MaxRecords == 0 ? DefaultVerifyRecords : Math.Min(request.MaxRecords, MaxVerifyRecords);
        // A slice is bounded by time, not by what it reads: it costs what the dearest page costs.
        await guard.ChargeAsync(context, officer, OwnServiceGuard.PermitsFor(OwnServiceGuard.MaxPageSize));
        await guard.RecordAsync(context, officer.PartnerId, allowed: true, $"chain verification by a privacy officer from record {from}", subject: null);
        AuditVerification slice;
        AuditCheckpoint? last;
        using (await verificationGate.EnterAsync(context.CancellationToken))
        {
            slice = await verifier.VerifySliceAsync(from, maxRecords, SliceBudget(context.Deadline), context.CancellationToken);
            last = await verifier.LastCheckpointAsync(context.CancellationToken);
        }
        var response = new VerifyChainResponse
        {
            Intact = slice.Intact,
            FromSequence = slice.FromSequence,
            RecordsChecked = slice.RecordsChecked,
            RecordsPurged = slice.Purged,
            CheckpointsChecked = slice.CheckpointsChecked,
            Problems = slice.Problems.Count,
            NextFromSequence = slice.NextFromSequence,
        };
        if (slice.Problems.Count > 0)
        {
            var first = slice.Problems[0];
            response.FirstBrokenSequence = first.Sequence;
            response.FirstBrokenKind = ToKind(first.Kind);
            response.FirstBrokenReason = first.Detail;
        }
        if (last is not null)
        {
            response.LastCheckpoint = new Checkpoint
            {
                Sequence = last.Sequence,
                Time = Timestamp.FromDateTimeOffset(last.Time),
                HeadHash = last.HeadHash,
                KeyId = AuditText.Printable(last.KeyId),
                SignatureVerifies = last.SignatureVerifies,
            };
        }
        return response;
    }

    public override async Task<GetSubjectAccessReportResponse> GetSubjectAccessReport(GetSubjectAccessReportRequest request, ServerCallContext context)
    {
        var officer = await RequireOfficerAsync(context, "GetSubjectAccessReport");
        if (string.IsNullOrWhiteSpace(request.SubjectPseudonym) || !request.SubjectPseudonym.Contains(':', StringComparison.Ordinal) || request.SubjectPseudonym.Length > 200)
        {
            throw Invalid([("subject_pseudonym", "must name the field and identifier the requests carried, e.g. registration_id:reg-1.")]);
        }
        // A report has no page: it costs what the largest page does.
        await guard.ChargeAsync(context, officer, OwnServiceGuard.PermitsFor(OwnServiceGuard.MaxPageSize));
        var reason = request.IncludeWithheld
            ? "data-subject access report by a privacy officer, with the entries withheld from the subject"
            : "data-subject access report by a privacy officer";
        await guard.RecordAsync(context, officer.PartnerId, allowed: true, reason, request.SubjectPseudonym);
        var report = await reader.SubjectAccessReportAsync(request.SubjectPseudonym, request.IncludeWithheld, context.CancellationToken);
        var response = new GetSubjectAccessReportResponse { SubjectPseudonym = report.SubjectPseudonym, Withheld = report.Withheld };
        response.Accesses.AddRange(report.Accesses.Select(a => new Chain.Audit.V1.SubjectAccess
        {
            Sequence = a.Sequence,
            Time = Timestamp.FromDateTimeOffset(a.Time),
            PartnerId = a.PartnerId,
            Purpose = a.Purpose,
            Method = a.Method,
            Allowed = a.Decision == AuditDecision.Allowed,
            WithheldFromSubject = a.WithheldFromSubject,
        }));
        return response;
    }

    public override async Task<ReleaseDecisionResponse> ReleaseDecision(ReleaseDecisionRequest request, ServerCallContext context)
    {
        var officer = await RequireOfficerAsync(context, "ReleaseDecision");
        var violations = new List<(string, string)>();
        if (request.Sequence < 1)
        {
            violations.Add(("sequence", "must name a recorded decision (1 or more)."));
        }
        if (string.IsNullOrWhiteSpace(request.Reason) || request.Reason.Length > 500)
        {
            violations.Add(("reason", "must say why the decision may now be shown (up to 500 characters)."));
        }
        if (violations.Count > 0)
        {
            throw Invalid(violations);
        }
        await guard.ChargeAsync(context, officer, 1);
        await guard.RecordAsync(context, officer.PartnerId, allowed: true, $"release of confidential decision {request.Sequence}", subject: null);
        try
        {
            await reader.ReleaseAsync(request.Sequence, officer.PartnerId, request.Reason, context.CancellationToken);
        }
        catch (KeyNotFoundException e)
        {
            throw new RpcException(new Status(StatusCode.NotFound, e.Message));
        }
        return new ReleaseDecisionResponse();
    }

    private async Task<PartnerPrincipal> RequireOfficerAsync(ServerCallContext context, string method)
    {
        var caller = await guard.AuthenticateAsync(context);
        if (!caller.Purposes.Contains(OfficerScope))
        {
            // Any partner can ask this as fast as it likes: charged like any call, and the refusal folded per
            // partner (apart from its rate refusals, which give another reason), so repeats cannot flood the log.
            await guard.ChargeAsync(context, caller, 1);
            throw await guard.RefuseAsync(context, FoldedDenials.PartnerSource(caller.PartnerId) + " not an officer", caller.PartnerId, StatusCode.PermissionDenied,
                $"Only privacy officers (scope {OfficerScope}) may call {method}; '{caller.PartnerId}' is not one. A partner reads its own decisions with ListMyDecisions.");
        }
        return caller;
    }

    /// <summary>
    /// A page and a time range as ListMyDecisions and SearchDecisions take them. AIP-158: 0 means the default, more
    /// than the maximum means the maximum; only a negative size is refused.
    /// </summary>
    private (int PageSize, DateTimeOffset From, DateTimeOffset To) PageAndRange(int requestedSize, long afterSequence, Timestamp? fromTime, Timestamp? toTime, List<(string, string)> violations)
    {
        var pageSize = requestedSize == 0 ? 100 : Math.Min(requestedSize, OwnServiceGuard.MaxPageSize);
        if (pageSize < 0)
        {
            violations.Add(("page_size", $"must not be negative (0 means 100; above {OwnServiceGuard.MaxPageSize} means {OwnServiceGuard.MaxPageSize})."));
        }
        if (afterSequence < 0)
        {
            violations.Add(("after_sequence", "must not be negative."));
        }
        var from = fromTime?.ToDateTimeOffset() ?? DateTimeOffset.UnixEpoch;
        var to = toTime?.ToDateTimeOffset() ?? clock.GetUtcNow().AddSeconds(1);
        if (to <= from)
        {
            violations.Add(("to_time", "must be after from_time."));
        }
        return (pageSize, from, to);
    }

    /// <summary>The slice's time: the configured slice, or half of what is left before the call's deadline when that is less (the rest answers).</summary>
    private TimeSpan SliceBudget(DateTime deadline)
    {
        var slice = options.Value.AuditVerifySlice;
        if (deadline == DateTime.MaxValue)
        {
            return slice;
        }
        var left = deadline - clock.GetUtcNow().UtcDateTime;
        return left <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Min(slice.Ticks, left.Ticks / 2));
    }

    private static ChainProblemKind ToKind(AuditProblemKind kind) => kind switch
    {
        AuditProblemKind.Changed => ChainProblemKind.Changed,
        AuditProblemKind.Missing => ChainProblemKind.Missing,
        AuditProblemKind.Reordered => ChainProblemKind.Reordered,
        AuditProblemKind.BadCheckpointSignature => ChainProblemKind.BadCheckpointSignature,
        AuditProblemKind.CheckpointMismatch => ChainProblemKind.CheckpointMismatch,
        AuditProblemKind.UnknownCheckpointKey => ChainProblemKind.UnknownCheckpointKey,
        AuditProblemKind.PurgedEarly => ChainProblemKind.PurgedEarly,
        AuditProblemKind.Unsealed => ChainProblemKind.Unsealed,
        _ => ChainProblemKind.Unspecified,
    };

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static RpcException Invalid(List<(string Field, string Description)> violations) =>
        RichErrors.InvalidArgument(string.Join(" ", violations.Select(v => $"{v.Field} {v.Description}")), violations);

    private static Chain.Audit.V1.Decision ToDecision(StoredAuditEntry stored)
    {
        var e = stored.Entry;
        return new Chain.Audit.V1.Decision
        {
            Sequence = stored.Sequence,
            Time = Timestamp.FromDateTimeOffset(e.Time),
            PartnerId = e.PartnerId,
            Purpose = e.Purpose,
            Method = e.Method,
            Allowed = e.Decision == AuditDecision.Allowed,
            Reason = e.Reason,
            GrantId = e.GrantId ?? "",
            GrantVersionHash = e.GrantVersionHash ?? "",
            LegalBasis = e.LegalBasis ?? "",
            TraceId = e.TraceId ?? "",
            SubjectPseudonym = e.SubjectPseudonym ?? "",
            Count = e.Count,
        };
    }
}
