using Ketenmesh.Persistence.Migrations;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Messaging.Tests.Chain;

/// <summary>The publishing side: a partner's intake desk that records signals and raises SignalRecorded.</summary>
sealed class IntakeDb(DbContextOptions<IntakeDb> options) : DbContext(options)
{
    public static readonly SchemaMigration[] Migrations =
    [
        SchemaMigration.Sql(
            "intake-0001-signals",
            sqlite: "CREATE TABLE signals (signal_id TEXT NOT NULL PRIMARY KEY, partner TEXT NOT NULL, recorded_at TEXT NOT NULL);",
            postgres: "CREATE TABLE signals (signal_id text PRIMARY KEY, partner text NOT NULL, recorded_at timestamptz NOT NULL);"),
    ];

    public DbSet<Signal> Signals => Set<Signal>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.AddOutbox();
        modelBuilder.Entity<Signal>(entity =>
        {
            entity.ToTable("signals");
            entity.HasKey(s => s.SignalId);
            entity.Property(s => s.SignalId).HasColumnName("signal_id");
            entity.Property(s => s.Partner).HasColumnName("partner");
            entity.Property(s => s.RecordedAt).HasColumnName("recorded_at");
        });
    }
}

sealed class Signal
{
    public required string SignalId { get; init; }

    public required string Partner { get; init; }

    public DateTime RecordedAt { get; init; }
}
