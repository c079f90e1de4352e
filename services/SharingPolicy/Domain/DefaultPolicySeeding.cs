using Chain.Policy.V1;
using Google.Protobuf;
using Ketenmesh.Policy.Seed;
using Ketenmesh.SharingPolicy.Persistence;
using Ketenmesh.SharingPolicy.Grpc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ketenmesh.SharingPolicy.Domain;

/// <summary>
/// The local profile starts with the default policy from the brief, published once as revision 1
/// (<c>SharingPolicy:SeedDefault</c>, on by default). A store that has ever published is left alone.
/// </summary>
public sealed class DefaultPolicySeeding(IServiceScopeFactory scopes, PublishedPolicies published, IOptions<SharingPolicyOptions> options, TimeProvider clock) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.SeedDefault)
        {
            return;
        }
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SharingPolicyDbContext>();
        if (await db.Publications.AnyAsync(cancellationToken))
        {
            return;
        }
        var snapshot = DefaultPolicy.Snapshot(clock.GetUtcNow());
        try
        {
            db.Versions.AddRange(snapshot.Grants.Select(GrantVersions.ToRow));
            db.Publications.Add(new PublicationRow { Revision = snapshot.Revision, PublishedAtMs = clock.GetUtcNow().ToUnixTimeMilliseconds(), PublishedBy = DefaultPolicy.Author, Snapshot = snapshot.ToByteArray() });
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another instance seeded at the same moment; its revision 1 is the same policy.
            return;
        }
        published.Announce(snapshot);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
