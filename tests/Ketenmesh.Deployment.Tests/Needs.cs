using Ketenmesh.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Deployment.Tests;

/// <summary>What a component needs from its environment, read from what it registers rather than assumed.</summary>
public sealed record Needs(bool Database, bool Bus)
{
    public static Needs Of(IMeshComponent component)
    {
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Mesh:DataDirectory"] = Path.Combine(Path.GetTempPath(), "ketenmesh-needs"),
        }).Build();
        component.AddServices(services, configuration);
        return new Needs(
            services.Any(d => typeof(DbContext).IsAssignableFrom(d.ServiceType)),
            services.Any(d => d.ServiceType.FullName == "MassTransit.IBus"));
    }
}
