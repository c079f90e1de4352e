using Ketenmesh.Identity.Persistence;
using Ketenmesh.Persistence;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Ketenmesh.Identity.Server;

/// <summary>
/// Refuses a private_key_jwt assertion used before (RFC 7523 §3: "the authorization server may ensure that
/// JWTs are not replayed"), which OpenIddict does not do by itself. Runs after OpenIddict has verified the
/// assertion's signature against the client's registered keys, its type, audience, issuer and subject,
/// so only a key holder can make it record anything. Each accepted (client, jti) is a row in the identity
/// database until the assertion expires; the primary key makes the insert the check, so every replica
/// sharing the database refuses a replay, also when two arrive at once.
/// </summary>
internal sealed class ClientAssertionReplay(IdentityDbContext database, TimeProvider clock) : IOpenIddictServerHandler<ProcessAuthenticationContext>
{
    /// <summary>Longest lifetime an assertion may claim; a long-lived assertion is a reusable password, and a long row.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(5);

    /// <summary>OpenIddict's clock skew for lifetimes; a replay is refused for this long after exp too.</summary>
    static readonly TimeSpan Skew = TimeSpan.FromMinutes(5);

    static long _nextSweepMs;

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
        .AddFilter<OpenIddictServerHandlerFilters.RequireClientAssertionPrincipal>()
        .UseScopedHandler<ClientAssertionReplay>()
        .SetOrder(OpenIddictServerHandlers.ValidateClientAssertionIssuer.Descriptor.Order + 1)
        .SetType(OpenIddictServerHandlerType.Custom)
        .Build();

    public async ValueTask HandleAsync(ProcessAuthenticationContext context)
    {
        var assertion = context.ClientAssertionPrincipal!;
        var clientId = assertion.GetClaim(Claims.Issuer)!;
        var jti = assertion.GetClaim(Claims.JwtId);
        var expires = assertion.GetExpirationDate();
        var now = clock.GetUtcNow();
        if (string.IsNullOrEmpty(jti))
        {
            context.Reject(Errors.InvalidClient, "The client_assertion needs a jti, so that it can be used only once.");
            return;
        }

        if (expires is null || expires.Value - now > MaxLifetime + TimeSpan.FromSeconds(30))
        {
            context.Reject(Errors.InvalidClient, $"The client_assertion may be valid for {MaxLifetime.TotalMinutes:N0} minutes at most: a long-lived assertion is a reusable password.");
            return;
        }

        await ForgetExpiredAsync(now);
        database.UsedClientAssertions.Add(new UsedClientAssertion { ClientId = clientId, Jti = jti, ExpiresAtMs = (expires.Value + Skew).ToUnixTimeMilliseconds() });
        try
        {
            await database.SaveChangesAsync();
        }
        catch (DbUpdateException exception) when (exception.IsDuplicateKey())
        {
            context.Reject(Errors.InvalidClient, "The client_assertion was used before (its jti was seen): sign a new one for every request.");
        }
        finally
        {
            database.ChangeTracker.Clear();
        }
    }

    /// <summary>Deletes the rows no assertion can be replayed with any more, at most once a minute per process.</summary>
    async Task ForgetExpiredAsync(DateTimeOffset now)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var due = Interlocked.Read(ref _nextSweepMs);
        if (nowMs < due || Interlocked.CompareExchange(ref _nextSweepMs, nowMs + 60_000, due) != due)
        {
            return;
        }

        await database.UsedClientAssertions.Where(a => a.ExpiresAtMs < nowMs).ExecuteDeleteAsync();
    }
}
