using Chain.Common.V1;
using Chain.Registry.V1;
using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Contracts;
using Ketenmesh.Domain;
using Ketenmesh.Registry.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Registry.Domain;

/// <summary>
/// The registrations a guardian is guardian of: how Nidos learns of a minor registered by the police, KMar or
/// CoMensha, which VictimRegistered names it guardian of but no grant of Nidos's lets it hear.
/// </summary>
/// <remarks>Source: seeds/001…txt L6174–6176 (AMV's suspected to be victims go to protected shelter, with Nidos as
/// guardian) and L6182–6183 (Nidos leads the chain for unaccompanied minors): it must know of every such child.</remarks>
public sealed class Wards(RegistryDbContext db)
{
    public const int DefaultPageSize = 50;

    /// <summary>No more than the gateway audits per answer (every registration named is recorded as found).</summary>
    public const int MaxPageSize = 100;

    /// <summary>
    /// The caller's wards, newest first, by the guardian the registration names (<see cref="MinorRules.GuardianOf"/>,
    /// stored with the record). A caller that is no guardian gets an empty page, as a partner gets no signal it did
    /// not report: the answer names no record the caller may not read.
    /// </summary>
    public async Task<ListWardsResponse> ListAsync(string partnerId, ListWardsRequest request, CancellationToken cancellationToken)
    {
        if (request.PageSize is < 0 or > MaxPageSize)
        {
            throw new InvalidRequest("page_size is out of range.", [("page_size", $"must be 0 (default {DefaultPageSize}) to {MaxPageSize}")]);
        }
        // Checked before anything is read, so a bad token is refused alike to a guardian and to anyone else.
        (DateTime RegisteredAt, string RegistrationId)? after = request.PageToken.Length > 0 ? KeysetPageToken.Parse(request.PageToken) : null;
        var response = new ListWardsResponse();
        var guardian = PartnerTypes.Of(partnerId);
        if (guardian == PartnerType.Unspecified)
        {
            // Registrations without a guardian carry 0 too: a caller of no known type is no one's guardian.
            return response;
        }
        var pageSize = request.PageSize == 0 ? DefaultPageSize : request.PageSize;
        var query = db.Registrations.AsNoTracking().Where(r => r.Guardian == (int)guardian);
        if (request.RegisteredAfter is { } registeredAfter)
        {
            var since = registeredAfter.ToDateTime();
            query = query.Where(r => r.RegisteredAt > since);
        }
        if (after is { } cursor)
        {
            var (registeredAt, registrationId) = cursor;
            query = query.Where(r => r.RegisteredAt < registeredAt || (r.RegisteredAt == registeredAt && string.Compare(r.RegistrationId, registrationId) < 0));
        }
        var rows = await query.OrderByDescending(r => r.RegisteredAt).ThenByDescending(r => r.RegistrationId)
            .Take(pageSize + 1).Select(r => new { r.RegistrationId, r.RegisteredAt, r.Data }).ToListAsync(cancellationToken);
        foreach (var row in rows.Take(pageSize))
        {
            var registration = Registration.Parser.ParseFrom(row.Data);
            response.Wards.Add(new Ward
            {
                RegistrationId = row.RegistrationId,
                RegisteredAt = registration.RegisteredAt,
                ProtectedShelterNeeded = MinorRules.NeedsProtectedShelter(registration),
            });
        }
        if (rows.Count > pageSize)
        {
            var last = rows[pageSize - 1];
            response.NextPageToken = KeysetPageToken.Create(last.RegisteredAt, last.RegistrationId);
        }
        return response;
    }
}
