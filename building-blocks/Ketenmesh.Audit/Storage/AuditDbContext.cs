using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Audit.Storage;

public sealed class AuditDbContext(DbContextOptions<AuditDbContext> options) : DbContext(options)
{
    internal DbSet<AuditRecordRow> Records => Set<AuditRecordRow>();

    internal DbSet<AuditHeadRow> Head => Set<AuditHeadRow>();

    internal DbSet<AuditCheckpointRow> Checkpoints => Set<AuditCheckpointRow>();

    internal DbSet<AuditReleaseRow> Releases => Set<AuditReleaseRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<AuditRecordRow>(e =>
        {
            e.ToTable("audit_records");
            e.HasKey(r => r.Sequence);
            e.Property(r => r.Sequence).HasColumnName("sequence").ValueGeneratedNever();
            e.Property(r => r.TimeMs).HasColumnName("time_ms");
            e.Property(r => r.PartnerId).HasColumnName("partner_id");
            e.Property(r => r.Purpose).HasColumnName("purpose");
            e.Property(r => r.Method).HasColumnName("method");
            e.Property(r => r.Decision).HasColumnName("decision");
            e.Property(r => r.Reason).HasColumnName("reason");
            e.Property(r => r.GrantId).HasColumnName("grant_id");
            e.Property(r => r.GrantVersionHash).HasColumnName("grant_version_hash");
            e.Property(r => r.LegalBasis).HasColumnName("legal_basis");
            e.Property(r => r.TraceId).HasColumnName("trace_id");
            e.Property(r => r.SubjectPseudonym).HasColumnName("subject_pseudonym");
            e.Property(r => r.RecordClass).HasColumnName("record_class");
            e.Property(r => r.CallCount).HasColumnName("call_count");
            e.Property(r => r.Digest).HasColumnName("digest");
            e.Property(r => r.Hash).HasColumnName("hash");
            e.Property(r => r.Seal).HasColumnName("seal");
            e.Property(r => r.PurgedAtMs).HasColumnName("purged_at_ms");
        });
        modelBuilder.Entity<AuditHeadRow>(e =>
        {
            e.ToTable("audit_head");
            e.HasKey(h => h.Id);
            e.Property(h => h.Id).HasColumnName("id").ValueGeneratedNever();
            e.Property(h => h.LastSequence).HasColumnName("last_sequence");
            e.Property(h => h.LastHash).HasColumnName("last_hash");
            e.Property(h => h.LastSeal).HasColumnName("last_seal");
        });
        modelBuilder.Entity<AuditCheckpointRow>(e =>
        {
            e.ToTable("audit_checkpoints");
            e.HasKey(c => c.Sequence);
            e.Property(c => c.Sequence).HasColumnName("sequence").ValueGeneratedNever();
            e.Property(c => c.Hash).HasColumnName("hash");
            e.Property(c => c.CreatedAtMs).HasColumnName("created_at_ms");
            e.Property(c => c.KeyId).HasColumnName("key_id");
            e.Property(c => c.Signature).HasColumnName("signature");
        });
        modelBuilder.Entity<AuditReleaseRow>(e =>
        {
            e.ToTable("audit_releases");
            e.HasKey(r => r.Id);
            e.Property(r => r.Id).HasColumnName("id").ValueGeneratedOnAdd();
            e.Property(r => r.Sequence).HasColumnName("sequence");
            e.Property(r => r.ReleasedBy).HasColumnName("released_by");
            e.Property(r => r.Reason).HasColumnName("reason");
            e.Property(r => r.ReleasedAtMs).HasColumnName("released_at_ms");
        });
    }
}
