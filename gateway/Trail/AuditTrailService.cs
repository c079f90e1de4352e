using Chain.Audit.V1;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Audit;
using Ketenmesh.Audit.Reading;
using Ketenmesh.Gateway.Access;
using Ketenmesh.Gateway.Proxy;
using Grpc.Core;
using Ketenmesh.Hosting.GrpcServer;
using Ketenmesh.Security;

namespace Ketenmesh.Gateway.Trail;

/// <summary>
/// chain.audit.v1.AuditTrail, served by the gateway itself: the log read back by those it concerns.
/// Its rules are fixed, not granted: a partner sees only its own decisions, and only a privacy
/// officer sees who accessed a subject. Each read is itself a decision on record.
/// </summary>
public sealed class AuditTrailService(CallerAuthenticator authenticator, AuditReader reader, IDecisionAudit audit, TimeProvider clock) : AuditTrail.AuditTrailBase
{
    private const string OfficerScope = "policy_admin";
    private const string Package = "chain.audit.v1.AuditTrail/";

    public override async Task<ListMyDecisionsResponse> ListMyDecisions(ListMyDecisionsRequest request, ServerCallContext context)
    {
        var caller = await AuthenticateAsync(context);
        var pageSize = request.PageSize == 0 ? 100 : request.PageSize;
        var violations = new List<(string, string)>();
        if (pageSize is < 1 or > 1000)
        {
            violations.Add(("page_size", "must be between 1 and 1000 (0 means 100)."));
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
        await RecordAsync(context, caller, "ListMyDecisions", "own decisions are always the partner's to read", null);
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
        await RecordAsync(context, officer, "GetSubjectAccessReport", "data-subject access report by a privacy officer", request.SubjectPseudonym);
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
        await RecordAsync(context, officer, "ReleaseDecision", $"release of confidential decision {request.Sequence}", null);
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
        var caller = await AuthenticateAsync(context);
        if (!caller.Purposes.Contains(OfficerScope))
        {
            await RecordAsync(context, caller, method, $"refused: only privacy officers (scope {OfficerScope}) may", null, allowed: false);
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"Only privacy officers (scope {OfficerScope}) may call {method}; '{caller.PartnerId}' is not one. A partner reads its own decisions with ListMyDecisions."));
        }
        return caller;
    }

    private async Task<PartnerPrincipal> AuthenticateAsync(ServerCallContext context)
    {
        var (caller, error) = await authenticator.AuthenticateAsync(context.GetHttpContext());
        return caller?.Principal ?? throw new RpcException(new Status(StatusCode.Unauthenticated, error!));
    }

    private async Task RecordAsync(ServerCallContext context, PartnerPrincipal caller, string method, string reason, string? subject, bool allowed = true)
    {
        var trace = TrustedHeaders.TraceParent(context.GetHttpContext().Request.Headers);
        try
        {
            await audit.RecordAsync(new Access.Decision(clock.GetUtcNow(), caller.PartnerId, "", Package + method, allowed, reason, null, TrustedHeaders.TraceId(trace), subject), context.CancellationToken);
        }
        catch (AuditUnavailableException)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "The gateway cannot record decisions right now, so it decides nothing; try again shortly."));
        }
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
        };
    }
}
