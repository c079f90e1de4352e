using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Persistence.Migrations;

/// <summary>The ordered migrations of one DbContext; generic so two contexts in a service keep separate lists.</summary>
public sealed class SchemaMigrationOptions<TContext>
    where TContext : DbContext
{
    public List<SchemaMigration> Migrations { get; } = [];

    /// <summary>Off when an operator applies migrations as a separate deployment step.</summary>
    public bool ApplyAtStartup { get; set; } = true;
}
