using Ketenmesh.Messaging;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Shelter.Persistence;

public sealed class ShelterDbContext(DbContextOptions<ShelterDbContext> options) : DbContext(options)
{
    public DbSet<ShelterRow> Shelters => Set<ShelterRow>();

    public DbSet<BedRow> Beds => Set<BedRow>();

    public DbSet<CapacityChangeRow> CapacityChanges => Set<CapacityChangeRow>();

    public DbSet<CapacityHeadRow> CapacityHead => Set<CapacityHeadRow>();

    public DbSet<PlacementRow> Placements => Set<PlacementRow>();

    public DbSet<AdmissionFactsRow> AdmissionFacts => Set<AdmissionFactsRow>();

    public DbSet<RegistrationMergeRow> RegistrationMerges => Set<RegistrationMergeRow>();

    public DbSet<LargeGroupRow> LargeGroups => Set<LargeGroupRow>();

    public DbSet<LargeGroupAllocationRow> LargeGroupAllocations => Set<LargeGroupAllocationRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<ShelterRow>(e =>
        {
            e.ToTable("shelters");
            e.HasKey(s => s.ShelterId);
            e.Property(s => s.ShelterId).HasColumnName("shelter_id");
            e.Property(s => s.Name).HasColumnName("name");
            e.Property(s => s.OperatorName).HasColumnName("operator_name");
            e.Property(s => s.Kind).HasColumnName("kind");
            e.Property(s => s.Categories).HasColumnName("categories");
            e.Property(s => s.MunicipalityCode).HasColumnName("municipality_code");
            e.Property(s => s.MunicipalityName).HasColumnName("municipality_name");
            e.Property(s => s.Secured).HasColumnName("secured");
            e.Property(s => s.Version).HasColumnName("version");
            e.Property(s => s.AsOf).HasColumnName("as_of");
            e.Property(s => s.ReportedAt).HasColumnName("reported_at");
        });
        modelBuilder.Entity<BedRow>(e =>
        {
            e.ToTable("shelter_beds");
            e.HasKey(b => new { b.ShelterId, b.Category });
            e.Property(b => b.ShelterId).HasColumnName("shelter_id");
            e.Property(b => b.Category).HasColumnName("category");
            e.Property(b => b.Total).HasColumnName("total");
            e.Property(b => b.Occupied).HasColumnName("occupied");
            e.Property(b => b.Held).HasColumnName("held");
        });
        modelBuilder.Entity<CapacityChangeRow>(e =>
        {
            e.ToTable("capacity_changes");
            e.HasKey(c => c.Version);
            e.Property(c => c.Version).HasColumnName("version").ValueGeneratedNever();
            e.Property(c => c.ShelterId).HasColumnName("shelter_id");
            e.Property(c => c.Snapshot).HasColumnName("snapshot");
            e.Property(c => c.RecordedAt).HasColumnName("recorded_at");
        });
        modelBuilder.Entity<CapacityHeadRow>(e =>
        {
            e.ToTable("capacity_head");
            e.HasKey(h => h.Id);
            e.Property(h => h.Id).HasColumnName("id").ValueGeneratedNever();
            e.Property(h => h.Version).HasColumnName("version");
            e.Property(h => h.PurgedThrough).HasColumnName("purged_through");
        });
        modelBuilder.Entity<PlacementRow>(e =>
        {
            e.ToTable("placements");
            e.HasKey(p => p.PlacementId);
            e.Property(p => p.PlacementId).HasColumnName("placement_id");
            e.Property(p => p.RegistrationId).HasColumnName("registration_id");
            e.Property(p => p.RequestedBy).HasColumnName("requested_by");
            e.Property(p => p.ClientRequestId).HasColumnName("client_request_id");
            e.Property(p => p.State).HasColumnName("state");
            e.Property(p => p.Category).HasColumnName("category");
            e.Property(p => p.ShelterId).HasColumnName("shelter_id");
            e.Property(p => p.WaitingList).HasColumnName("waiting_list");
            e.Property(p => p.Needs).HasColumnName("needs");
            e.Property(p => p.ArrangementId).HasColumnName("arrangement_id");
            e.Property(p => p.FromGroupPlace).HasColumnName("from_group_place");
            e.Property(p => p.RequestedAt).HasColumnName("requested_at");
            e.Property(p => p.HoldExpiresAt).HasColumnName("hold_expires_at");
            e.Property(p => p.PlacedAt).HasColumnName("placed_at");
            e.Property(p => p.EndedAt).HasColumnName("ended_at");
            e.Property(p => p.Version).HasColumnName("version").IsConcurrencyToken();
            e.Property(p => p.CosmEligible).HasColumnName("cosm_eligible");
            e.Property(p => p.Ineligibility).HasColumnName("ineligibility");
            e.Property(p => p.OfferedFrom).HasColumnName("offered_from");
            e.HasIndex(p => new { p.RequestedBy, p.ClientRequestId }).IsUnique();
        });
        modelBuilder.Entity<AdmissionFactsRow>(e =>
        {
            e.ToTable("admission_facts");
            e.HasKey(f => f.RegistrationId);
            e.Property(f => f.RegistrationId).HasColumnName("registration_id");
            e.Property(f => f.Version).HasColumnName("version");
            e.Property(f => f.Minor).HasColumnName("minor");
            e.Property(f => f.DutchNational).HasColumnName("dutch_national");
            e.Property(f => f.InReflectionPeriod).HasColumnName("in_reflection_period");
            e.Property(f => f.AangifteMade).HasColumnName("aangifte_made");
            e.Property(f => f.AsylumProcedure).HasColumnName("asylum_procedure");
            e.Property(f => f.Closed).HasColumnName("closed");
            e.Property(f => f.ClosedAt).HasColumnName("closed_at");
        });
        modelBuilder.Entity<RegistrationMergeRow>(e =>
        {
            e.ToTable("registration_merges");
            e.HasKey(m => m.MergedRegistrationId);
            e.Property(m => m.MergedRegistrationId).HasColumnName("merged_registration_id");
            e.Property(m => m.SurvivingRegistrationId).HasColumnName("surviving_registration_id");
        });
        modelBuilder.Entity<LargeGroupRow>(e =>
        {
            e.ToTable("large_group_arrangements");
            e.HasKey(g => g.ArrangementId);
            e.Property(g => g.ArrangementId).HasColumnName("arrangement_id");
            e.Property(g => g.RequestedBy).HasColumnName("requested_by");
            e.Property(g => g.ClientRequestId).HasColumnName("client_request_id");
            e.Property(g => g.State).HasColumnName("state");
            e.Property(g => g.Request).HasColumnName("request");
            e.Property(g => g.RequestedAt).HasColumnName("requested_at");
            e.Property(g => g.StartsAt).HasColumnName("starts_at");
            e.Property(g => g.EndsAt).HasColumnName("ends_at");
            e.Property(g => g.ReleasedAt).HasColumnName("released_at");
            e.HasIndex(g => new { g.RequestedBy, g.ClientRequestId }).IsUnique();
        });
        modelBuilder.Entity<LargeGroupAllocationRow>(e =>
        {
            e.ToTable("large_group_allocations");
            e.HasKey(a => new { a.ArrangementId, a.ShelterId, a.Category });
            e.Property(a => a.ArrangementId).HasColumnName("arrangement_id");
            e.Property(a => a.ShelterId).HasColumnName("shelter_id");
            e.Property(a => a.Category).HasColumnName("category");
            e.Property(a => a.Places).HasColumnName("places");
            // Known to the model so the arrangement is inserted before its allocations.
            e.HasOne<LargeGroupRow>().WithMany().HasForeignKey(a => a.ArrangementId);
        });
        modelBuilder.AddOutbox();
        modelBuilder.AddInbox();
    }
}
