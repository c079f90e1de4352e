using Ketenmesh.Messaging;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Risk.Persistence;

public sealed class RiskDbContext(DbContextOptions<RiskDbContext> options) : DbContext(options)
{
    public DbSet<SignalFactsRow> SignalFacts => Set<SignalFactsRow>();

    public DbSet<AssessmentRow> Assessments => Set<AssessmentRow>();

    public DbSet<RuleSetStateRow> RuleSetStates => Set<RuleSetStateRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<SignalFactsRow>(e =>
        {
            e.ToTable("signal_facts");
            e.HasKey(s => s.SignalId);
            e.Property(s => s.SignalId).HasColumnName("signal_id");
            e.Property(s => s.Facts).HasColumnName("facts");
            e.Property(s => s.ReceivedAt).HasColumnName("received_at");
        });
        modelBuilder.Entity<AssessmentRow>(e =>
        {
            e.ToTable("assessments");
            e.HasKey(a => a.AssessmentId);
            e.Property(a => a.AssessmentId).HasColumnName("assessment_id");
            e.Property(a => a.SignalId).HasColumnName("signal_id");
            e.Property(a => a.RuleSetVersion).HasColumnName("rule_set_version");
            e.Property(a => a.Current).HasColumnName("is_current");
            e.Property(a => a.AssessedAt).HasColumnName("assessed_at");
            e.Property(a => a.Explained).HasColumnName("explained");
            e.HasIndex(a => new { a.SignalId, a.RuleSetVersion }).IsUnique();
        });
        modelBuilder.Entity<RuleSetStateRow>(e =>
        {
            e.ToTable("rule_set_states");
            e.HasKey(r => r.Version);
            e.Property(r => r.Version).HasColumnName("version");
            e.Property(r => r.State).HasColumnName("state");
            e.Property(r => r.ActivatedAt).HasColumnName("activated_at");
            e.Property(r => r.RetiredAt).HasColumnName("retired_at");
        });
        modelBuilder.AddOutbox();
        modelBuilder.AddInbox();
    }
}
