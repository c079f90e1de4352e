using Google.Protobuf.Reflection;

namespace Ketenmesh.Policy;

/// <summary>
/// Every method partners can call through the gateway, by its full name
/// (<c>chain.signals.v1.SignalIntake/SubmitSignal</c>), with the service that owns it.
/// </summary>
public sealed class MethodCatalog
{
    /// <summary>
    /// Methods that answer with aggregates only, never individual records: the only ones a
    /// <c>statistics</c> grant may name (the Rapporteur's "aggregated statistics only").
    /// </summary>
    private static readonly HashSet<string> AggregateMethods = new(StringComparer.Ordinal)
    {
        "chain.registry.v1.VictimRegistry/GetStatistics",
    };

    /// <summary>
    /// Methods that only read: what they answer is what a grant means a partner to see of a record.
    /// Every other method writes, and its answer may show no more of a record than the partner's
    /// reads of it do (<see cref="Decisions.ReadCoverage"/>). A method missing here counts as a
    /// write, which can only narrow what it shows.
    /// </summary>
    private static readonly HashSet<string> ReadMethods = new(StringComparer.Ordinal)
    {
        "chain.signals.v1.SignalIntake/GetSignal",
        "chain.signals.v1.SignalIntake/ListMySignals",
        "chain.signals.v1.SignalIntake/WatchMySignals",
        "chain.registry.v1.VictimRegistry/GetRegistration",
        "chain.registry.v1.VictimRegistry/FindByLinkKeys",
        "chain.registry.v1.VictimRegistry/ListConsents",
        "chain.registry.v1.VictimRegistry/ListWards",
        "chain.registry.v1.VictimRegistry/GetStatistics",
        "chain.risk.v1.RiskAssessment/GetAssessment",
        "chain.risk.v1.RiskAssessment/ExplainAssessment",
        "chain.risk.v1.RiskAssessment/ListRuleSets",
        "chain.shelter.v1.ShelterCapacity/GetCapacity",
        "chain.shelter.v1.ShelterCapacity/ListShelters",
        "chain.shelter.v1.ShelterCapacity/WatchCapacity",
        "chain.shelter.v1.ShelterCapacity/GetPlacement",
        "chain.shelter.v1.ShelterCapacity/ListWaitingList",
        "chain.shelter.v1.ShelterCapacity/ListPlacements",
        "chain.shelter.v1.ShelterCapacity/GetLargeGroupArrangement",
        "chain.returns.v1.ReturnCoordination/GetReturnCase",
    };

    private readonly Dictionary<string, MethodDescriptor> _methods = new(StringComparer.Ordinal);

    public MethodCatalog(IEnumerable<ServiceDescriptor> services)
    {
        Services = services.ToList();
        foreach (var service in Services)
        {
            foreach (var method in service.Methods)
            {
                _methods[NameOf(method)] = method;
            }
        }
    }

    /// <summary>The chain's partner-facing services.</summary>
    public static MethodCatalog Chain { get; } = new(
    [
        Service(global::Chain.Signals.V1.SignalsReflection.Descriptor, "SignalIntake"),
        Service(global::Chain.Registry.V1.RegistryReflection.Descriptor, "VictimRegistry"),
        Service(global::Chain.Risk.V1.RiskReflection.Descriptor, "RiskAssessment"),
        Service(global::Chain.Shelter.V1.ShelterReflection.Descriptor, "ShelterCapacity"),
        Service(global::Chain.Returns.V1.ReturnsReflection.Descriptor, "ReturnCoordination"),
    ]);

    public IReadOnlyList<ServiceDescriptor> Services { get; }

    public IEnumerable<MethodDescriptor> Methods => _methods.Values;

    public MethodDescriptor? Find(string fullName) => _methods.GetValueOrDefault(fullName);

    public static string NameOf(MethodDescriptor method) => $"{method.Service.FullName}/{method.Name}";

    public static bool IsAggregate(string fullName) => AggregateMethods.Contains(fullName);

    /// <summary>True for a method that only reads; false for one that writes (and for one not listed).</summary>
    public static bool IsRead(string fullName) => ReadMethods.Contains(fullName);

    private static ServiceDescriptor Service(FileDescriptor file, string name) =>
        file.FindTypeByName<ServiceDescriptor>(name) ?? throw new InvalidOperationException($"{file.Name} declares no service {name}.");
}
