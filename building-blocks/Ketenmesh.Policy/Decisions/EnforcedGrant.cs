using Chain.Policy.V1;

namespace Ketenmesh.Policy.Decisions;

/// <summary>A published grant version, compiled for enforcement: its methods resolved against the contracts.</summary>
public sealed class EnforcedGrant
{
    private readonly Dictionary<string, MethodAccess> _methods;

    public EnforcedGrant(GrantVersion version, IReadOnlyDictionary<string, MethodAccess> methods)
    {
        Version = version;
        _methods = new Dictionary<string, MethodAccess>(methods, StringComparer.Ordinal);
        ValidFrom = version.Grant.ValidFrom?.ToDateTimeOffset();
        ValidUntil = version.Grant.ValidUntil?.ToDateTimeOffset();
    }

    public GrantVersion Version { get; }

    public Grant Grant => Version.Grant;

    public string GrantId => Version.Grant.GrantId;

    public string VersionHash => Version.VersionHash;

    public string Purpose => PurposeNames.ToScope(Version.Grant.Purpose);

    public DateTimeOffset? ValidFrom { get; }

    public DateTimeOffset? ValidUntil { get; }

    public IEnumerable<string> MethodNames => _methods.Keys;

    public MethodAccess? Find(string method) => _methods.GetValueOrDefault(method);

    /// <summary>This grant with every write's mask cut down to what <paramref name="coverage"/> (its partner's reads) shows of each record.</summary>
    public EnforcedGrant Clamped(ReadCoverage coverage)
    {
        var methods = new Dictionary<string, MethodAccess>(StringComparer.Ordinal);
        foreach (var (name, access) in _methods)
        {
            var mask = MethodCatalog.IsRead(name) ? access.ResponseMask : coverage.Clamp(access.ResponseMask);
            methods[name] = ReferenceEquals(mask, access.ResponseMask) ? access : new MethodAccess(access.Method, mask, access.RequiredRequestFields);
        }
        return new EnforcedGrant(Version, methods);
    }

    /// <summary>Null when the grant applies at <paramref name="now"/>, else why it does not.</summary>
    public string? InactiveReason(DateTimeOffset now)
    {
        if (ValidFrom is { } from && now < from)
        {
            return $"Grant '{GrantId}' applies from {from:O}.";
        }
        if (ValidUntil is { } until && now >= until)
        {
            return $"Grant '{GrantId}' expired at {until:O}.";
        }
        return null;
    }
}
