using System.Reflection;
using Ketenmesh.Hosting.GrpcServer;
using Ketenmesh.Hosting;
using Ketenmesh.Messaging;
using Ketenmesh.Persistence;

namespace Ketenmesh.Deployment.Tests;

/// <summary>Every configuration key the components read, derived from the options types themselves.</summary>
public static class ConfigurationKeys
{
    private static readonly (string Section, Type Options)[] Sections =
    [
        ("Service", typeof(EndpointOptions)),
        (DatabaseOptions.SectionName, typeof(DatabaseOptions)),
        (MessagingOptions.SectionName, typeof(MessagingOptions)),
        ("Grpc", typeof(Grpc.AspNetCore.Server.GrpcServiceOptions)),
        ("Identity", typeof(Ketenmesh.Identity.IdentitySettings)),
        ("Gateway", typeof(Ketenmesh.Gateway.GatewayOptions)),
        ("SharingPolicy", typeof(Ketenmesh.SharingPolicy.Grpc.SharingPolicyOptions)),
        ("Audit", typeof(Ketenmesh.Audit.AuditOptions)),
        ("Console", typeof(Ketenmesh.OfficerConsole.ConsoleOptions)),
    ];

    /// <summary>
    /// Keys outside any options type: where keys and files live; the gateway whose transaction tokens
    /// services believe; OpenTelemetry's standard variables (read by Ketenmesh.Hosting.Telemetry and the SDK);
    /// YARP's ReverseProxy section of the gateway, of which a deployment sets the clusters' destinations.
    /// </summary>
    private static readonly string[] Loose = ["Mesh:DataDirectory", CallerPartner.GatewayKey, "ReverseProxy:Clusters:*", "OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT"];

    public static IReadOnlySet<string> Known { get; } = Sections.SelectMany(s => KeysOf(s.Options, s.Section)).Concat(Loose).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>True for a key the code reads; <c>Section:Name:*</c> stands for any key below a dictionary section.</summary>
    public static bool IsKnown(string key) =>
        Known.Contains(key) || Known.Any(k => k.EndsWith(":*", StringComparison.Ordinal) && key.StartsWith(k[..^1], StringComparison.OrdinalIgnoreCase));

    /// <summary>Environment variable name (<c>Database__Provider</c>) to configuration key (<c>Database:Provider</c>).</summary>
    public static string FromEnvironment(string variable) => variable.Replace("__", ":", StringComparison.Ordinal);

    private static IEnumerable<string> KeysOf(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var key = $"{prefix}:{property.Name}";
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                // A dictionary section takes any key below it (Gateway:Routes:chain.signals.v1).
                yield return key + ":*";
            }
            else if (propertyType.IsClass && propertyType.Namespace?.StartsWith("Ketenmesh", StringComparison.Ordinal) == true)
            {
                foreach (var nested in KeysOf(propertyType, key))
                {
                    yield return nested;
                }
            }
            else
            {
                // A value, or a library's own type (Grpc:Interceptors) that configuration does not reach into.
                yield return key;
            }
        }
    }
}

