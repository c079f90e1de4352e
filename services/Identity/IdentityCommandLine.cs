namespace Ketenmesh.Identity;

/// <summary>
/// What an operator's command (<see cref="ClientCommand"/>, <see cref="AccountCommand"/>) runs on: the identity's own
/// services, configured as the running identity is (its environment, or <c>--Section:Key=value</c>), so it reads and
/// changes the same database and data directory.
/// </summary>
internal static class IdentityCommandLine
{
    /// <returns>The words of the command (everything not a <c>--</c> setting), and the services.</returns>
    public static (List<string> Positional, ServiceProvider Services) Open(string[] args)
    {
        var positional = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
        var configuration = new ConfigurationBuilder()
            .AddEnvironmentVariables()
            .AddCommandLine(args.Where(a => a.StartsWith("--", StringComparison.Ordinal)).ToArray())
            .Build();
        var services = new ServiceCollection();
        new IdentityComponent().AddServices(services, configuration);
        return (positional, services.BuildServiceProvider());
    }
}
