namespace Ketenmesh.Gateway.Tests.Support;

static class Repository
{
    /// <summary>The checkout the tests run from (where Ketenmesh.slnx is).</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Ketenmesh.slnx")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException("Not inside the repository.");
    }
}
