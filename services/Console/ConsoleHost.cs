using System.Net;
using Ketenmesh.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Ketenmesh.OfficerConsole;

/// <summary>
/// The console is a browser's component, not a gRPC one: HTTP/1.1 on its port, cookies, forms, its own
/// authentication schemes. It therefore always runs in a web application of its own, also inside the
/// embedded mesh's process, where sharing the gRPC components' pipeline would mix its sign-in with
/// theirs (the identity's own cookie and OpenIddict handlers answer by path on any port).
/// </summary>
public static class ConsoleHost
{
    /// <summary>Builds the console's application.</summary>
    /// <param name="args">The command line (its own process); empty inside the mesh.</param>
    /// <param name="view">The console's configuration view inside the embedded mesh (<c>Components:console</c> on top of the root).</param>
    public static WebApplication Build(string[] args, IConfiguration? view = null)
    {
        var component = new ConsoleComponent();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // Its Razor Pages are found in its own assembly, whichever process hosts it.
            ApplicationName = typeof(ConsoleHost).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (view is not null)
        {
            builder.Configuration.AddConfiguration(view);
        }

        // Its data-protection keys (which encrypt the officer's token in the sign-in cookie) live there: owner-only.
        PrivateDataDirectory.Secure(EndpointOptions.DataDirectoryOf(builder.Configuration));
        builder.Logging.AddChainLogging();
        // The key ring sits in the owner-only data directory; the warning that it is not encrypted at rest says nothing new.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);

        builder.Services.AddChainTelemetry(builder.Configuration, "ketenmesh-console");
        var endpoint = EndpointOptions.For(component, builder.Configuration);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Browsers speak HTTP/1.1 in cleartext (h2c is for gRPC peers only); TLS comes from the platform in a cluster.
            kestrel.Listen(IPAddress.Parse(endpoint.BindAddress), endpoint.Port, o => o.Protocols = HttpProtocols.Http1);
            kestrel.Limits.MaxConcurrentConnections = endpoint.MaxConnections;
        });
        component.AddServices(builder.Services, builder.Configuration);
        var app = builder.Build();
        ConsoleComponent.UsePipeline(app);
        component.MapEndpoints(app);
        return app;
    }

    /// <summary>Runs until Ctrl-C or SIGTERM.</summary>
    public static async Task<int> RunAsync(WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            System.Console.WriteLine($"  console          {string.Join(", ", app.Urls)}");
            System.Console.WriteLine("Ready. Ctrl-C stops the console.");
        });
        await app.RunAsync();
        return Environment.ExitCode;
    }
}
