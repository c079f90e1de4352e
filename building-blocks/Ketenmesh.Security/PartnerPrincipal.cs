namespace Ketenmesh.Security;

/// <summary>Who is calling, as a validated access token says: the partner, its client and the purposes it may declare.</summary>
public sealed record PartnerPrincipal(
    string PartnerId,
    string? PartnerType,
    string ClientId,
    IReadOnlySet<string> Purposes,
    string TokenId,
    DateTimeOffset ExpiresAt,
    string? CertificateThumbprint);
