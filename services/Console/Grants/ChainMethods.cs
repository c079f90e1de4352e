using Ketenmesh.Policy;

namespace Ketenmesh.OfficerConsole.Grants;

/// <summary>Every method of the chain by its full name, sorted once: the editor, the simulation and the audit search offer them.</summary>
public static class ChainMethods
{
    public static IReadOnlyList<string> Names { get; } = MethodCatalog.Chain.Methods.Select(MethodCatalog.NameOf).Order(StringComparer.Ordinal).ToList();
}
