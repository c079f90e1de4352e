using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Ketenmesh.Hosting;

/// <summary>
/// OpenTelemetry for every component, configured once: traces of incoming and outgoing calls, SQL
/// round trips (without their text), the outbox and MassTransit's publish and consume, and the chain's
/// own metrics. Exported over OTLP when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set;
/// every other <c>OTEL_*</c> variable (service name, protocol, headers, sampling) is read as the
/// specification says.
/// </summary>
public static class Telemetry
{
    /// <summary>Our own ActivitySources and Meters are all named <c>Ketenmesh.*</c>.</summary>
    public const string OwnSources = "Ketenmesh.*";

    /// <summary>MassTransit's ActivitySource and Meter.</summary>
    public const string MassTransit = "MassTransit";

    public static IServiceCollection AddChainTelemetry(this IServiceCollection services, IConfiguration configuration, string serviceName)
    {
        var telemetry = services.AddOpenTelemetry()
            // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, read by the default detectors, win over this default.
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithTracing(tracing => tracing
                .AddSource(OwnSources, MassTransit)
                .AddAspNetCoreInstrumentation()
                // One span per gRPC call, not a second one from the HttpClient instrumentation beneath it.
                .AddGrpcClientInstrumentation(grpc => grpc.SuppressDownstreamInstrumentation = true)
                .AddHttpClientInstrumentation()
                .AddNpgsql())
            .WithMetrics(metrics => metrics
                .AddMeter(OwnSources, MassTransit)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation());
        if (!string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            telemetry.UseOtlpExporter();
        }

        return services;
    }
}
