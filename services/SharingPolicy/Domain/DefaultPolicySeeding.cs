using Chain.Policy.V1;
using Ketenmesh.Policy.Seed;
using Ketenmesh.SharingPolicy.Persistence;
using Ketenmesh.SharingPolicy.Grpc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ketenmesh.SharingPolicy.Domain;

/// <summary>
/// The store follows the default policy from the brief (<c>SharingPolicy:SeedDefault</c>, on by default): the first
/// start publishes it as revision 1, and a later start whose file differs publishes one more revision with the file's
/// grants. So a deployment that ran before a release gets the grants of the methods that release added (shelter
/// capacity, return coordination) and the narrowed masks it brought, not a mesh whose new methods everyone is refused.
/// <para>
/// Only grants the file alone ever shaped follow it: once an officer has drafted a version of a grant or revoked it,
/// the grant is theirs, and a new file leaves it alone (ADR 0015). The file's four eyes are the repository's review.
/// </para>
/// </summary>
public sealed class DefaultPolicySeeding(IServiceScopeFactory scopes, PublishedPolicies published, IOptions<SharingPolicyOptions> options, TimeProvider clock, ILogger<DefaultPolicySeeding> logger) : IHostedService
{
    public const string NoLongerInTheFile = "No longer in the default policy.";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.SeedDefault)
        {
            return;
        }
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SharingPolicyDbContext>();
        PolicySnapshot? snapshot;
        try
        {
            snapshot = await FollowAsync(db, DefaultPolicy.Snapshot(clock.GetUtcNow()), cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another instance followed the file at the same moment; its revision holds the same grants.
            return;
        }
        if (snapshot is not null)
        {
            logger.LogInformation("Published sharing policy revision {Revision} from the default policy file.", snapshot.Revision);
            published.Announce(snapshot);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The new revision when the file changed a grant that follows it; null when the store is as the file says.</summary>
    private async Task<PolicySnapshot?> FollowAsync(SharingPolicyDbContext db, PolicySnapshot seed, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // A few hundred rows at most, read once at start.
        var stored = (await db.Versions.ToListAsync(cancellationToken)).ToLookup(v => v.GrantId, StringComparer.Ordinal);
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var changed = false;
        foreach (var version in seed.Grants)
        {
            var history = stored[version.Grant.GrantId].ToList();
            if (!FollowsTheFile(history) || history.Any(v => v.State == (int)GrantState.Published && v.VersionHash == version.VersionHash))
            {
                continue;
            }
            history.Where(v => v.State == (int)GrantState.Published).ToList().ForEach(v => v.State = (int)GrantState.Superseded);
            if (history.FirstOrDefault(v => v.VersionHash == version.VersionHash) is { } earlier)
            {
                // The file went back to content it held before: that version is published again.
                earlier.State = (int)GrantState.Published;
                earlier.RevokedBy = null;
                earlier.RevokedAtMs = null;
                earlier.RevocationReason = null;
            }
            else
            {
                db.Versions.Add(GrantVersions.ToRow(version));
            }
            changed = true;
        }
        var inTheFile = seed.Grants.Select(g => g.Grant.GrantId).ToHashSet(StringComparer.Ordinal);
        foreach (var history in stored.Where(h => !inTheFile.Contains(h.Key) && FollowsTheFile(h.ToList())))
        {
            foreach (var gone in history.Where(v => v.State == (int)GrantState.Published))
            {
                gone.State = (int)GrantState.Revoked;
                gone.RevokedBy = DefaultPolicy.Author;
                gone.RevokedAtMs = now;
                gone.RevocationReason = NoLongerInTheFile;
                changed = true;
            }
        }
        if (!changed)
        {
            return null;
        }
        await db.SaveChangesAsync(cancellationToken);
        var snapshot = await PolicyRevisions.AppendAsync(db, DefaultPolicy.Author, clock.GetUtcNow(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return snapshot;
    }

    /// <summary>A grant no officer has drafted or revoked: the file alone shaped it (or it is new).</summary>
    private static bool FollowsTheFile(List<GrantVersionRow> history) =>
        history.All(v => v.DraftedBy == DefaultPolicy.Author && (v.RevokedBy is null || v.RevokedBy == DefaultPolicy.Author));
}
