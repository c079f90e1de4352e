using System.Reflection;
using Ketenmesh.Grpc.Server;
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
        ("Grpc", typeof(GrpcServerOptions)),
    ];

    public static IReadOnlySet<string> Known { get; } = Sections
        .SelectMany(s => KeysOf(s.Options, s.Section))
        .ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Environment variable name (<c>Database__Provider</c>) to configuration key (<c>Database:Provider</c>).</summary>
    public static string FromEnvironment(string variable) => variable.Replace("__", ":", StringComparison.Ordinal);

    private static IEnumerable<string> KeysOf(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var key = $"{prefix}:{property.Name}";
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (propertyType.IsClass && propertyType != typeof(string) && !propertyType.IsArray)
            {
                foreach (var nested in KeysOf(propertyType, key))
                {
                    yield return nested;
                }
            }
            else
            {
                yield return key;
            }
        }
    }
}
