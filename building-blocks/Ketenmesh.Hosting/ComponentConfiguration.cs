using Microsoft.Extensions.Configuration;

namespace Ketenmesh.Hosting;

/// <summary>Gives each component of the embedded mesh its own view of the one process configuration.</summary>
internal static class ComponentConfiguration
{
    /// <summary>
    /// The process configuration, then embedded defaults for this component (its own SQLite file, its
    /// port), then whatever <c>Components:{name}</c> overrides: most specific wins.
    /// </summary>
    public static IConfiguration ForEmbedded(IConfiguration root, IMeshComponent component)
    {
        var dataDirectory = root["Mesh:DataDirectory"] ?? Path.Combine(".mesh", "data");
        var defaults = new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Sqlite",
            ["Database:ConnectionString"] = $"Data Source={Path.Combine(dataDirectory, component.Name + ".db")}",
            ["Messaging:Transport"] = "InMemory",
        };
        var overrides = root.GetSection($"Components:{component.Name}").AsEnumerable(makePathsRelative: true)
            .Where(pair => pair.Value is not null);
        return new ConfigurationBuilder()
            .AddConfiguration(root)
            .AddInMemoryCollection(defaults)
            .AddInMemoryCollection(overrides)
            .Build();
    }
}
