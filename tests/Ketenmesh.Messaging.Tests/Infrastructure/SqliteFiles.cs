using Microsoft.Data.Sqlite;

namespace Ketenmesh.Messaging.Tests.Infrastructure;

/// <summary>A fresh directory for a test's SQLite files, removed with the pooled connections that hold them.</summary>
sealed class SqliteFiles(string purpose) : IDisposable
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "ketenmesh-tests", $"{purpose}-{Guid.NewGuid():N}");

    /// <summary>The <c>Provider</c> and <c>ConnectionString</c> of a database section, for a file in this directory.</summary>
    public Dictionary<string, string?> Settings(string section, string file) => new()
    {
        [$"{section}:Provider"] = "Sqlite",
        [$"{section}:ConnectionString"] = $"Data Source={Path.Combine(Directory, file)}",
    };

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
