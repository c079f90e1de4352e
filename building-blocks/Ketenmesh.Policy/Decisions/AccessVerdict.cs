namespace Ketenmesh.Policy.Decisions;

/// <summary>Which gRPC status a denial maps to: who you are (UNAUTHENTICATED) or what you may do (PERMISSION_DENIED).</summary>
public enum Denial
{
    None = 0,
    Unauthenticated = 1,
    PermissionDenied = 2,
}

/// <summary>The outcome of one call's check, with the reason a partner's developer can act on.</summary>
public sealed record AccessVerdict(Denial Denial, string Reason, EnforcedGrant? Grant, MethodAccess? Access)
{
    public bool Allowed => Denial == Denial.None;

    public static AccessVerdict Allow(EnforcedGrant grant, MethodAccess access) =>
        new(Denial.None, $"Allowed by grant '{grant.GrantId}'.", grant, access);

    public static AccessVerdict Deny(string reason, EnforcedGrant? grant = null) => new(Denial.PermissionDenied, reason, grant, null);

    public static AccessVerdict Unauthenticated(string reason) => new(Denial.Unauthenticated, reason, null, null);
}
