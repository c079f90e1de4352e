using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.SharingPolicy.Persistence;

public sealed class SharingPolicyDbContext(DbContextOptions<SharingPolicyDbContext> options) : DbContext(options)
{
    internal DbSet<GrantVersionRow> Versions => Set<GrantVersionRow>();

    internal DbSet<PublicationRow> Publications => Set<PublicationRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<GrantVersionRow>(e =>
        {
            e.ToTable("grant_versions");
            e.HasKey(v => v.VersionHash);
            e.Property(v => v.VersionHash).HasColumnName("version_hash");
            e.Property(v => v.GrantId).HasColumnName("grant_id");
            e.Property(v => v.PartnerId).HasColumnName("partner_id");
            e.Property(v => v.Purpose).HasColumnName("purpose");
            e.Property(v => v.Grant).HasColumnName("grant");
            e.Property(v => v.State).HasColumnName("state");
            e.Property(v => v.DraftedBy).HasColumnName("drafted_by");
            e.Property(v => v.DraftedAtMs).HasColumnName("drafted_at_ms");
            e.Property(v => v.ApprovedBy).HasColumnName("approved_by");
            e.Property(v => v.ApprovedAtMs).HasColumnName("approved_at_ms");
            e.Property(v => v.RevokedBy).HasColumnName("revoked_by");
            e.Property(v => v.RevokedAtMs).HasColumnName("revoked_at_ms");
            e.Property(v => v.RevocationReason).HasColumnName("revocation_reason");
        });
        modelBuilder.Entity<PublicationRow>(e =>
        {
            e.ToTable("publications");
            e.HasKey(p => p.Revision);
            e.Property(p => p.Revision).HasColumnName("revision").ValueGeneratedNever();
            e.Property(p => p.PublishedAtMs).HasColumnName("published_at_ms");
            e.Property(p => p.PublishedBy).HasColumnName("published_by");
            e.Property(p => p.Snapshot).HasColumnName("snapshot");
        });
    }
}
