using Ketenmesh.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Npgsql;

namespace Ketenmesh.Messaging.Tests;

public sealed class DatabaseOptionsTests
{
    [Fact]
    public void A_postgres_connection_string_without_a_pool_size_gets_a_bounded_pool()
    {
        var applied = Applied("Host=127.0.0.1;Database=signals;Username=ketenmesh");
        Assert.Equal(DatabaseOptions.DefaultMaxPoolSize, new NpgsqlConnectionStringBuilder(applied).MaxPoolSize);
        Assert.Equal("signals", new NpgsqlConnectionStringBuilder(applied).Database);
    }

    [Theory]
    [InlineData("Maximum Pool Size")]
    [InlineData("MaxPoolSize")]
    [InlineData("maximum pool size")]
    public void A_pool_size_the_operator_set_is_kept(string key)
    {
        var applied = Applied($"Host=127.0.0.1;Database=signals;{key}=7");
        Assert.Equal(7, new NpgsqlConnectionStringBuilder(applied).MaxPoolSize);
    }

    static string Applied(string connectionString)
    {
        var builder = new DbContextOptionsBuilder();
        new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = connectionString }.Apply(builder);
        return builder.Options.Extensions.OfType<RelationalOptionsExtension>().Single().ConnectionString!;
    }
}
