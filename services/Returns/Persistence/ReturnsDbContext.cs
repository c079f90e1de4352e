using Ketenmesh.Messaging;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Returns.Persistence;

public sealed class ReturnsDbContext(DbContextOptions<ReturnsDbContext> options) : DbContext(options)
{
    public DbSet<ReturnCaseRow> Cases => Set<ReturnCaseRow>();

    public DbSet<ReturnRequestRow> Requests => Set<ReturnRequestRow>();

    public DbSet<KnownResidenceRow> Residence => Set<KnownResidenceRow>();

    public DbSet<KnownConsentRow> Consents => Set<KnownConsentRow>();

    public DbSet<KnownMergeRow> Merges => Set<KnownMergeRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<ReturnCaseRow>(e =>
        {
            e.ToTable("return_cases");
            e.HasKey(r => r.ReturnCaseId);
            e.Property(r => r.ReturnCaseId).HasColumnName("return_case_id");
            e.Property(r => r.RegistrationId).HasColumnName("registration_id");
            e.Property(r => r.DepartureSuspended).HasColumnName("departure_suspended");
            e.Property(r => r.TargetDepartureBy).HasColumnName("target_departure_by");
            e.Property(r => r.TargetFlagged).HasColumnName("target_flagged");
            e.Property(r => r.NextCheckInDue).HasColumnName("next_check_in_due");
            e.Property(r => r.CheckInFlagged).HasColumnName("check_in_flagged");
            e.Property(r => r.Closed).HasColumnName("closed");
            e.Property(r => r.Version).HasColumnName("version").IsConcurrencyToken();
            e.Property(r => r.Data).HasColumnName("data");
            e.Property(r => r.CreatedAt).HasColumnName("created_at");
        });
        modelBuilder.Entity<ReturnRequestRow>(e =>
        {
            e.ToTable("return_requests");
            e.HasKey(r => new { r.PartnerId, r.ClientRequestId });
            e.Property(r => r.PartnerId).HasColumnName("partner_id");
            e.Property(r => r.ClientRequestId).HasColumnName("client_request_id");
            e.Property(r => r.ReturnCaseId).HasColumnName("return_case_id");
        });
        modelBuilder.Entity<KnownResidenceRow>(e =>
        {
            e.ToTable("known_residence");
            e.HasKey(r => r.RegistrationId);
            e.Property(r => r.RegistrationId).HasColumnName("registration_id");
            e.Property(r => r.RegistrationVersion).HasColumnName("registration_version");
            e.Property(r => r.LegalStay).HasColumnName("legal_stay");
            e.Property(r => r.TemporaryResidenceDecision).HasColumnName("temporary_residence_decision");
            e.Property(r => r.ContinuedResidenceDecision).HasColumnName("continued_residence_decision");
        });
        modelBuilder.Entity<KnownConsentRow>(e =>
        {
            e.ToTable("known_consents");
            e.HasKey(c => c.ConsentId);
            e.Property(c => c.ConsentId).HasColumnName("consent_id");
            e.Property(c => c.RegistrationId).HasColumnName("registration_id");
            e.Property(c => c.Data).HasColumnName("data");
        });
        modelBuilder.Entity<KnownMergeRow>(e =>
        {
            e.ToTable("known_merges");
            e.HasKey(m => m.MergedRegistrationId);
            e.Property(m => m.MergedRegistrationId).HasColumnName("merged_registration_id");
            e.Property(m => m.SurvivingRegistrationId).HasColumnName("surviving_registration_id");
        });
        modelBuilder.AddOutbox();
        modelBuilder.AddInbox();
    }
}
