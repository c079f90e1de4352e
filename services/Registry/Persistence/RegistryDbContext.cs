using Ketenmesh.Messaging;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Registry.Persistence;

public sealed class RegistryDbContext(DbContextOptions<RegistryDbContext> options) : DbContext(options)
{
    public DbSet<RegistrationRow> Registrations => Set<RegistrationRow>();

    public DbSet<LinkKeyRow> LinkKeys => Set<LinkKeyRow>();

    public DbSet<PendingSignalRow> PendingSignals => Set<PendingSignalRow>();

    public DbSet<MergeRow> Merges => Set<MergeRow>();

    public DbSet<ConsentRow> Consents => Set<ConsentRow>();

    public DbSet<PlacementReleaseRow> PlacementReleases => Set<PlacementReleaseRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<RegistrationRow>(e =>
        {
            e.ToTable("registrations");
            e.HasKey(r => r.RegistrationId);
            e.Property(r => r.RegistrationId).HasColumnName("registration_id");
            e.Property(r => r.ReporterPartnerId).HasColumnName("reporter_partner_id");
            e.Property(r => r.ClientRequestId).HasColumnName("client_request_id");
            e.Property(r => r.Status).HasColumnName("status");
            e.Property(r => r.Version).HasColumnName("version").IsConcurrencyToken();
            e.Property(r => r.Data).HasColumnName("data");
            e.Property(r => r.RegisteredAt).HasColumnName("registered_at");
            e.Property(r => r.ReflectionEndsOn).HasColumnName("reflection_ends_on");
            e.Property(r => r.ReflectionReminded).HasColumnName("reflection_reminded");
            e.Property(r => r.Guardian).HasColumnName("guardian");
            e.HasIndex(r => new { r.ReporterPartnerId, r.ClientRequestId }).IsUnique();
        });
        modelBuilder.Entity<LinkKeyRow>(e =>
        {
            e.ToTable("registration_link_keys");
            e.HasKey(k => k.Id);
            e.Property(k => k.Id).HasColumnName("id").ValueGeneratedOnAdd();
            e.Property(k => k.RegistrationId).HasColumnName("registration_id");
            e.Property(k => k.Kind).HasColumnName("kind");
            e.Property(k => k.KeyId).HasColumnName("key_id");
            e.Property(k => k.KeyedHash).HasColumnName("keyed_hash");
        });
        modelBuilder.Entity<PendingSignalRow>(e =>
        {
            e.ToTable("pending_signals");
            e.HasKey(p => p.SignalId);
            e.Property(p => p.SignalId).HasColumnName("signal_id");
            e.Property(p => p.Received).HasColumnName("received");
            e.Property(p => p.Assessed).HasColumnName("assessed");
            e.Property(p => p.Decided).HasColumnName("decided");
            e.Property(p => p.ChangedAt).HasColumnName("changed_at");
        });
        modelBuilder.Entity<MergeRow>(e =>
        {
            e.ToTable("registration_merges");
            e.HasKey(m => m.MergeId);
            e.Property(m => m.MergeId).HasColumnName("merge_id");
            e.Property(m => m.PartnerId).HasColumnName("partner_id");
            e.Property(m => m.ClientRequestId).HasColumnName("client_request_id");
            e.Property(m => m.SurvivingRegistrationId).HasColumnName("surviving_registration_id");
            e.Property(m => m.Data).HasColumnName("data");
            e.Property(m => m.MergedAt).HasColumnName("merged_at");
            e.HasIndex(m => new { m.PartnerId, m.ClientRequestId }).IsUnique();
        });
        modelBuilder.Entity<ConsentRow>(e =>
        {
            e.ToTable("consents");
            e.HasKey(c => c.ConsentId);
            e.Property(c => c.ConsentId).HasColumnName("consent_id");
            e.Property(c => c.RegistrationId).HasColumnName("registration_id");
            e.Property(c => c.PartnerId).HasColumnName("partner_id");
            e.Property(c => c.ClientRequestId).HasColumnName("client_request_id");
            e.Property(c => c.Version).HasColumnName("version").IsConcurrencyToken();
            e.Property(c => c.Data).HasColumnName("data");
            e.Property(c => c.RecordedAt).HasColumnName("recorded_at");
            e.HasIndex(c => new { c.PartnerId, c.ClientRequestId }).IsUnique();
        });
        modelBuilder.Entity<PlacementReleaseRow>(e =>
        {
            e.ToTable("placement_releases");
            e.HasKey(p => p.PlacementId);
            e.Property(p => p.PlacementId).HasColumnName("placement_id");
            e.Property(p => p.ReleasedAt).HasColumnName("released_at");
        });
        modelBuilder.AddOutbox();
        modelBuilder.AddInbox();
    }
}
