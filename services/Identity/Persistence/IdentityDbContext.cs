using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Identity.Persistence;

/// <summary>
/// The identity service's database: OpenIddict's applications, scopes, authorizations and tokens
/// (its EF Core entities, tables <c>OpenIddict*</c>), and the client assertions already used.
/// </summary>
public sealed class IdentityDbContext(DbContextOptions<IdentityDbContext> options) : DbContext(options)
{
    internal DbSet<UsedClientAssertion> UsedClientAssertions => Set<UsedClientAssertion>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.UseOpenIddict();
        modelBuilder.Entity<UsedClientAssertion>(e =>
        {
            e.ToTable("used_client_assertions");
            e.HasKey(a => new { a.ClientId, a.Jti });
            e.Property(a => a.ClientId).HasColumnName("client_id");
            e.Property(a => a.Jti).HasColumnName("jti");
            e.Property(a => a.ExpiresAtMs).HasColumnName("expires_at_ms");
        });
    }
}

/// <summary>A private_key_jwt assertion that was accepted once; kept until it expires, so a replay is refused (RFC 7523 §3, item 7).</summary>
internal sealed class UsedClientAssertion
{
    public required string ClientId { get; init; }

    public required string Jti { get; init; }

    public long ExpiresAtMs { get; init; }
}
