using Chain.Audit.V1;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Audit;
using Ketenmesh.Audit.Reading;
using Ketenmesh.Gateway.Access;
using Grpc.Core;
using Ketenmesh.Hosting.GrpcServer;
using Ketenmesh.Security;

namespace Ketenmesh.Gateway.Trail;

/// <summary>
/// chain.audit.v1.AuditTrail, served by the gateway itself: the log read back by those it concerns.
/// Its rules are fixed, not granted: a partner sees only its own decisions, and only a privacy
/// officer sees who accessed a subject. Each read is itself a decision on record. Each call is charged
/// to the caller's limit on the gateway's own services by what it reads (<see cref="OwnServiceGuard"/>);
/// what it answers, the reader has made printable (<see cref="AuditReader"/>).
/// </summary>
public sealed class AuditTrailService(OwnServiceGuard guard, AuditReader reader, TimeProvider clock) : AuditTrail.AuditTrailBase
{
    private const string OfficerScope = "policy_admin";

    public override async Task<ListMyDecisionsResponse> ListMyDecisions(ListMyDecisionsRequest request, ServerCallContext context)
    {
        var caller = await guard.AuthenticateAsync(context);
        // AIP-158: 0 means the default, more than the maximum means the maximum; only a negative size is refused.
        var pageSize = request.PageSize == 0 ? 100 : Math.Min(request.PageSize, OwnServiceGuard.MaxPageSize);
        var violations = new List<(string, string)>();
        if (pageSize < 0)
        {
            violations.Add(("page_size", $"must not be negative (0 means 100; above {OwnServiceGuard.MaxPageSize} means {OwnServiceGuard.MaxPageSize})."));
        }
        if (request.AfterSequence < 0)
        {
            violations.Add(("after_sequence", "must not be negative."));
        }
        var from = request.FromTime?.ToDateTimeOffset() ?? DateTimeOffset.UnixEpoch;
        var to = request.ToTime?.ToDateTimeOffset() ?? clock.GetUtcNow().AddSeconds(1);
        if (to <= from)
        {
            violations.Add(("to_time", "must be after from_time."));
        }
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

    public override async Task<GetSubjectAccessReportResponse> GetSubjectAccessReport(GetSubjectAccessReportRequest request, ServerCallContext context)
    {
        var officer = await RequireOfficerAsync(context, "GetSubjectAccessReport");
        if (string.IsNullOrWhiteSpace(request.SubjectPseudonym) || !request.SubjectPseudonym.Contains(':', StringComparison.Ordinal) || request.SubjectPseudonym.Length > 200)
        {
            throw Invalid([("subject_pseudonym", "must name the field and identifier the requests carried, e.g. registration_id:reg-1.")]);
        }
        // A report has no page: it costs what the largest page does.
        await guard.ChargeAsync(context, officer, OwnServiceGuard.PermitsFor(OwnServiceGuard.MaxPageSize));
        await guard.RecordAsync(context, officer.PartnerId, allowed: true, "data-subject access report by a privacy officer", request.SubjectPseudonym);
        var report = await reader.SubjectAccessReportAsync(request.SubjectPseudonym, context.CancellationToken);
        var response = new GetSubjectAccessReportResponse { SubjectPseudonym = report.SubjectPseudonym, Withheld = report.Withheld };
        response.Accesses.AddRange(report.Accesses.Select(a => new Chain.Audit.V1.SubjectAccess
        {
            Sequence = a.Sequence,
            Time = Timestamp.FromDateTimeOffset(a.Time),
            PartnerId = a.PartnerId,
            Purpose = a.Purpose,
            Method = a.Method,
            Allowed = a.Decision == AuditDecision.Allowed,
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
