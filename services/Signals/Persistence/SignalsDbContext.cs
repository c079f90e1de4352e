using Ketenmesh.Messaging;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Signals.Persistence;

public sealed class SignalsDbContext(DbContextOptions<SignalsDbContext> options) : DbContext(options)
{
    public DbSet<SignalRecord> Signals => Set<SignalRecord>();

    public DbSet<SignalStatusChangeRecord> StatusChanges => Set<SignalStatusChangeRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<SignalRecord>(entity =>
        {
            entity.ToTable("signals");
            entity.HasKey(s => s.SignalId);
            entity.Property(s => s.SignalId).HasColumnName("signal_id");
            entity.Property(s => s.ReporterPartnerId).HasColumnName("reporter_partner_id");
            entity.Property(s => s.ClientRequestId).HasColumnName("client_request_id");
            entity.Property(s => s.Observation).HasColumnName("observation");
            entity.Property(s => s.Status).HasColumnName("status");
            entity.Property(s => s.Outcome).HasColumnName("outcome");
            entity.Property(s => s.ReceivedAt).HasColumnName("received_at");
            entity.Property(s => s.StatusChangedAt).HasColumnName("status_changed_at");
            entity.Property(s => s.Version).HasColumnName("version").IsConcurrencyToken();
            entity.HasIndex(s => new { s.ReporterPartnerId, s.ClientRequestId }).IsUnique();
        });
        modelBuilder.Entity<SignalStatusChangeRecord>(entity =>
        {
            entity.ToTable("signal_status_changes");
            entity.HasKey(c => c.Sequence);
            entity.Property(c => c.Sequence).HasColumnName("sequence").ValueGeneratedOnAdd();
            entity.Property(c => c.SignalId).HasColumnName("signal_id");
            entity.Property(c => c.ReporterPartnerId).HasColumnName("reporter_partner_id");
            entity.Property(c => c.ClientRequestId).HasColumnName("client_request_id");
            entity.Property(c => c.PreviousStatus).HasColumnName("previous_status");
            entity.Property(c => c.NewStatus).HasColumnName("new_status");
            entity.Property(c => c.Outcome).HasColumnName("outcome");
            entity.Property(c => c.ChangedAt).HasColumnName("changed_at");
        });
        modelBuilder.AddOutbox();
        modelBuilder.AddInbox();
    }
}
