using Chain.Common.V1;
using Chain.Policy.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Policy;
using Ketenmesh.Policy.Decisions;
using Ketenmesh.SharingPolicy.Persistence;
using Microsoft.EntityFrameworkCore;
using Ketenmesh.Domain;

namespace Ketenmesh.SharingPolicy.Domain;

/// <summary>
/// What privacy officers do with grants. Versions are immutable and named by their content hash;
/// a draft takes effect only after a second officer approved it and someone published.
/// </summary>
public sealed class PolicyAdministration(SharingPolicyDbContext db, PublishedPolicies published, TimeProvider clock)
{
    public async Task<GrantVersion> DraftAsync(Grant? grant, string officer, CancellationToken cancellationToken)
    {
        if (grant is null)
        {
            throw new InvalidRequest("grant is required.", [("grant", "is required")]);
        }
        var problems = GrantCompiler.Validate(grant, MethodCatalog.Chain);
        if (problems.Count > 0)
        {
            throw new InvalidRequest($"The grant is not valid: {problems.Count} problem(s), see the field violations.", problems);
        }
        await RequireDisclosureWithinReadsAsync(grant, cancellationToken);
        var hash = GrantVersionHash.Compute(grant);
        if (await db.Versions.AsNoTracking().FirstOrDefaultAsync(v => v.VersionHash == hash, cancellationToken) is { } existing)
        {
            return GrantVersions.ToContract(existing); // the same content is the same version
        }
        var version = new GrantVersion
        {
            Grant = grant,
            VersionHash = hash,
            State = GrantState.Draft,
            DraftedBy = officer,
            DraftedAt = Timestamp.FromDateTimeOffset(clock.GetUtcNow()),
        };
        db.Versions.Add(GrantVersions.ToRow(version));
        await db.SaveChangesAsync(cancellationToken);
        return version;
    }

    public async Task<GrantVersion> ApproveAsync(string versionHash, string officer, CancellationToken cancellationToken)
    {
        var row = await FindVersionAsync(versionHash, cancellationToken);
        if (row.State != (int)GrantState.Draft)
        {
            throw new NotNow($"Version {versionHash} is {(GrantState)row.State}; only a draft can be approved.");
        }
        if (row.DraftedBy == officer)
        {
            throw new NotAllowed($"Four eyes: {officer} drafted this version and cannot approve it; another privacy officer must.");
        }
        row.State = (int)GrantState.Approved;
        row.ApprovedBy = officer;
        row.ApprovedAtMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await db.SaveChangesAsync(cancellationToken);
        return GrantVersions.ToContract(row);
    }

    public async Task<GrantVersion> RevokeAsync(string grantId, string reason, string officer, CancellationToken cancellationToken)
    {
        var violations = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(grantId))
        {
            violations.Add(("grant_id", "is required"));
        }
        if (string.IsNullOrWhiteSpace(reason))
        {
            violations.Add(("reason", "is required: auditors read why a grant was withdrawn"));
        }
        if (violations.Count > 0)
        {
            throw new InvalidRequest("The revocation is not valid, see the field violations.", violations);
        }
        var versions = await db.Versions.Where(v => v.GrantId == grantId).ToListAsync(cancellationToken);
        if (versions.Count == 0)
        {
            throw new NotFound($"There is no grant '{grantId}'.");
        }
        var live = versions.Where(v => v.State is (int)GrantState.Published or (int)GrantState.Approved).ToList();
        if (live.Count == 0)
        {
            throw new NotNow($"Grant '{grantId}' has no approved or published version to revoke.");
        }
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var row in live)
        {
            row.State = (int)GrantState.Revoked;
            row.RevokedBy = officer;
            row.RevokedAtMs = now;
            row.RevocationReason = reason;
        }
        await db.SaveChangesAsync(cancellationToken);
        return GrantVersions.ToContract(live.OrderByDescending(v => v.DraftedAtMs).First());
    }

    public async Task<IReadOnlyList<GrantVersion>> HistoryAsync(string grantId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(grantId))
        {
            throw new InvalidRequest("grant_id is required.", [("grant_id", "is required")]);
        }
        var rows = await db.Versions.AsNoTracking().Where(v => v.GrantId == grantId).OrderByDescending(v => v.DraftedAtMs).ToListAsync(cancellationToken);
        return rows.Count == 0
            ? throw new NotFound($"There is no grant '{grantId}'.")
            : rows.Select(GrantVersions.ToContract).ToList();
    }

    public async Task<IReadOnlyList<GrantVersion>> ListAsync(string partnerId, Purpose purpose, GrantState state, CancellationToken cancellationToken)
    {
        if (!System.Enum.IsDefined(purpose) || !System.Enum.IsDefined(state))
        {
            throw new InvalidRequest("The filter is not valid.", [(System.Enum.IsDefined(purpose) ? "state" : "purpose", "is not a known value")]);
        }
        var query = db.Versions.AsNoTracking();
        if (!string.IsNullOrEmpty(partnerId))
        {
            query = query.Where(v => v.PartnerId == partnerId);
        }
        if (purpose != Purpose.Unspecified)
        {
            query = query.Where(v => v.Purpose == (int)purpose);
        }
        if (state != GrantState.Unspecified)
        {
            query = query.Where(v => v.State == (int)state);
        }
        var rows = await query.ToListAsync(cancellationToken);
        return rows.OrderBy(v => v.GrantId, StringComparer.Ordinal).ThenByDescending(v => v.DraftedAtMs).Select(GrantVersions.ToContract).ToList();
    }

    public async Task<SimulateAccessResponse> SimulateAsync(SimulateAccessRequest request, CancellationToken cancellationToken)
    {
        var violations = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(request.PartnerId))
        {
            violations.Add(("partner_id", "is required"));
        }
        if (request.Purpose == Purpose.Unspecified || !System.Enum.IsDefined(request.Purpose))
        {
            violations.Add(("purpose", "must be one of the chain's purposes"));
        }
        if (MethodCatalog.Chain.Find(request.Method) is null)
        {
            violations.Add(("method", "must be a chain method, written as package.Service/Method"));
        }
        if (violations.Count > 0)
        {
            throw new InvalidRequest("The simulation request is not valid, see the field violations.", violations);
        }
        var snapshot = (await published.CurrentAsync(cancellationToken)).Clone();
        if (!string.IsNullOrEmpty(request.CandidateVersionHash))
        {
            var candidate = GrantVersions.ToContract(await FindVersionAsync(request.CandidateVersionHash, cancellationToken));
            var replaced = snapshot.Grants.Where(g => g.Grant.GrantId == candidate.Grant.GrantId).ToList();
            replaced.ForEach(g => snapshot.Grants.Remove(g));
            candidate.State = GrantState.Published;
            snapshot.Grants.Add(candidate);
            snapshot.Revision = long.MaxValue;
        }
        var purpose = PurposeNames.ToScope(request.Purpose);
        // The partner is assumed to hold a token for the purpose and, where demanded, a bound one: the simulation answers for the policy.
        var verdict = new AccessPolicy(snapshot, MethodCatalog.Chain)
            .Decide(new AccessRequest(request.PartnerId, new HashSet<string> { purpose }, purpose, request.Method, CertificateBound: true), clock.GetUtcNow());
        var response = new SimulateAccessResponse
        {
            Decision = verdict.Allowed ? AccessDecision.Allowed : AccessDecision.Denied,
            Reason = verdict.Grant?.Grant.RequireCertificateBinding == true && verdict.Allowed
                ? verdict.Reason + " The grant requires a certificate-bound token."
                : verdict.Reason,
            GrantId = verdict.Grant?.GrantId ?? "",
            VersionHash = verdict.Grant?.VersionHash ?? "",
        };
        if (verdict.Access is { } access)
        {
            response.KeptFields.AddRange(access.ResponseMask.Paths);
            response.RemovedFields.AddRange(access.ResponseMask.RemovedPaths());
        }
        return response;
    }

    /// <summary>Approved versions become the published ones; revoked ones drop out; one new revision.</summary>
    public async Task<PolicySnapshot> PublishAsync(string officer, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var approved = await db.Versions.Where(v => v.State == (int)GrantState.Approved).ToListAsync(cancellationToken);
        var grantIds = approved.Select(v => v.GrantId).ToHashSet();
        var superseded = await db.Versions.Where(v => v.State == (int)GrantState.Published && grantIds.Contains(v.GrantId)).ToListAsync(cancellationToken);
        superseded.ForEach(v => v.State = (int)GrantState.Superseded);
        approved.ForEach(v => v.State = (int)GrantState.Published);
        await db.SaveChangesAsync(cancellationToken);

        var snapshot = await PolicyRevisions.AppendAsync(db, officer, clock.GetUtcNow(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        published.Announce(snapshot);
        return snapshot;
    }

    /// <summary>
    /// Refuses a draft that would let a write show its partner more of a record than the partner's reads
    /// do, judged against the partner's grants as they would stand: its published and approved versions,
    /// this draft in place of its grant's. A draft narrowing a read is refused too when another of the
    /// partner's grants writes more than the narrowed read shows. (The gateway also cuts such a write
    /// down when enforcing, for what a later revocation leaves behind.)
    /// </summary>
    private async Task RequireDisclosureWithinReadsAsync(Grant grant, CancellationToken cancellationToken)
    {
        var live = await db.Versions.AsNoTracking()
            .Where(v => v.PartnerId == grant.PartnerId && v.GrantId != grant.GrantId && (v.State == (int)GrantState.Published || v.State == (int)GrantState.Approved))
            .ToListAsync(cancellationToken);
        var standing = live.Select(GrantVersions.ToContract).Select(v => v.Grant).Append(grant).ToList();
        var problems = GrantCompiler.ValidateDisclosure(standing, MethodCatalog.Chain)
            .Select(p => p.GrantId == grant.GrantId ? (p.Field, p.Problem) : (p.Field, $"with this draft, grant '{p.GrantId}' {p.Field}: {p.Problem}"))
            .ToList();
        if (problems.Count > 0)
        {
            throw new InvalidRequest($"The grant would let a write show more than partner '{grant.PartnerId}' may read: {problems.Count} problem(s), see the field violations.", problems);
        }
    }

    private async Task<GrantVersionRow> FindVersionAsync(string versionHash, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(versionHash))
        {
            throw new InvalidRequest("version_hash is required.", [("version_hash", "is required")]);
        }
        return await db.Versions.FirstOrDefaultAsync(v => v.VersionHash == versionHash, cancellationToken)
            ?? throw new NotFound($"There is no grant version {versionHash}.");
    }
}
