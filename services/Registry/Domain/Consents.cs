using Chain.Common.V1;
using Chain.Registry.V1;
using Google.Protobuf;
using Ketenmesh.Contracts;
using Ketenmesh.Messaging.Outbox;
using Ketenmesh.Registry.Persistence;
using Microsoft.EntityFrameworkCore;
using Ketenmesh.Domain;

namespace Ketenmesh.Registry.Domain;

/// <summary>
/// Who may tell whom what about a registered person. A consent is recorded by the partner that holds the
/// signed form (only a reference to it is kept here), can be withdrawn, and lapses after its last day.
/// The registry consults consents before it takes in what needs one (see <see cref="RequireAsync"/>).
/// </summary>
public sealed class Consents(RegistryDbContext db, RegistrationStore store, EventOutbox<RegistryDbContext> outbox)
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    public async Task<Consent> RecordAsync(string partnerId, RecordConsentRequest request, CancellationToken cancellationToken)
    {
        var problems = new List<(string Field, string Description)>();
        if (string.IsNullOrWhiteSpace(request.ClientRequestId) || request.ClientRequestId.Length > 128)
        {
            problems.Add(("client_request_id", "is required (up to 128 characters) so a retry records nothing twice."));
        }
        if (request.Consent is null)
        {
            problems.Add(("consent", "is required."));
            throw new InvalidRequest(problems);
        }
        if (request.Consent.ConsentId.Length > 0)
        {
            return await WithdrawAsync(partnerId, request.Consent, problems, cancellationToken);
        }
        ConsentRules.NewConsentProblems(request.Consent, store.Today(), problems);
        InvalidRequest.ThrowIfAny(problems);
        if (await db.Consents.AsNoTracking().FirstOrDefaultAsync(c => c.PartnerId == partnerId && c.ClientRequestId == request.ClientRequestId, cancellationToken) is { } earlier)
        {
            return Effective(Consent.Parser.ParseFrom(earlier.Data));
        }
        var registration = await store.ReadHeldAsync(partnerId, request.Consent.RegistrationId, cancellationToken);
        if (registration.ClosureReason == RegistrationClosureReason.Merged)
        {
            throw new NotNow($"Registration '{registration.RegistrationId}' was merged into another registration; record the consent on the one it was merged into.");
        }
        var now = store.Now();
        var consent = request.Consent.Clone();
        consent.ConsentId = $"con-{Guid.CreateVersion7():N}";
        consent.State = ConsentState.Given;
        consent.RecordedBy = PartnerTypes.Of(partnerId);
        consent.RecordedAt = now;
        var row = new ConsentRow
        {
            ConsentId = consent.ConsentId,
            RegistrationId = consent.RegistrationId,
            PartnerId = partnerId,
            ClientRequestId = request.ClientRequestId,
            Version = 1,
            Data = consent.ToByteArray(),
            RecordedAt = now.ToDateTime(),
        };
        db.Consents.Add(row);
        outbox.Add(RegistryNews.ConsentChanged(consent, row.Version, now));
        await db.SaveChangesAsync(cancellationToken);
        return Effective(consent);
    }

    public async Task<ListConsentsResponse> ListAsync(string partnerId, ListConsentsRequest request, CancellationToken cancellationToken)
    {
        var problems = new List<(string Field, string Description)>();
        if (string.IsNullOrWhiteSpace(request.RegistrationId))
        {
            problems.Add(("registration_id", "is required."));
        }
        if (request.PageSize is < 0 or > MaxPageSize)
        {
            problems.Add(("page_size", $"must be 0 (default {DefaultPageSize}) to {MaxPageSize}."));
        }
        if (request.PageToken.Length > 0 && !request.PageToken.StartsWith("con-", StringComparison.Ordinal))
        {
            problems.Add(("page_token", "is not one this service handed out; pass next_page_token from the previous page."));
        }
        InvalidRequest.ThrowIfAny(problems);
        await store.ReadHeldAsync(partnerId, request.RegistrationId, cancellationToken);
        var pageSize = request.PageSize == 0 ? DefaultPageSize : request.PageSize;
        var query = db.Consents.AsNoTracking().Where(c => c.RegistrationId == request.RegistrationId);
        if (request.PageToken.Length > 0)
        {
            query = query.Where(c => string.Compare(c.ConsentId, request.PageToken) > 0);
        }
        var response = new ListConsentsResponse();
        // Ids are time-ordered; inactive ones are skipped in memory, so a page may hold fewer than asked.
        var rows = await query.OrderBy(c => c.ConsentId).Take(pageSize + 1).ToListAsync(cancellationToken);
        foreach (var row in rows.Take(pageSize))
        {
            var consent = Effective(Consent.Parser.ParseFrom(row.Data));
            if (request.IncludeInactive || consent.State == ConsentState.Given)
            {
                response.Consents.Add(consent);
            }
        }
        if (rows.Count > pageSize)
        {
            response.NextPageToken = rows[pageSize - 1].ConsentId;
        }
        return response;
    }

    /// <summary>
    /// Refuses (FAILED_PRECONDITION) unless a consent in force lets <paramref name="discloser"/> tell
    /// <paramref name="recipient"/> about <paramref name="topic"/> (any topic when null).
    /// </summary>
    public async Task RequireAsync(string registrationId, PartnerType discloser, PartnerType recipient, DisclosureTopic? topic, bool writtenOnly, string what, CancellationToken cancellationToken)
    {
        if (!await AllowsAsync(registrationId, discloser, recipient, topic, writtenOnly, cancellationToken))
        {
            throw new NotNow($"{what} needs a {(writtenOnly ? "written " : "")}consent in force for {discloser} to tell {recipient} about {(topic is { } t ? t.ToString() : "this person")} for registration '{registrationId}'; record it with RecordConsent first.");
        }
    }

    public async Task<bool> AllowsAsync(string registrationId, PartnerType discloser, PartnerType recipient, DisclosureTopic? topic, bool writtenOnly, CancellationToken cancellationToken)
    {
        var rows = await db.Consents.AsNoTracking().Where(c => c.RegistrationId == registrationId).Select(c => c.Data).ToListAsync(cancellationToken);
        return rows.Select(data => Effective(Consent.Parser.ParseFrom(data))).Any(c =>
            c.State == ConsentState.Given
            && c.DisclosingPartner == discloser
            && c.RecipientPartner == recipient
            && (topic is not { } wanted || c.Topics.Contains(wanted))
            && (!writtenOnly || c.Form == ConsentForm.Written));
    }

    /// <summary>A merge takes the consents along: they concern the person, not the record.</summary>
    public async Task MoveAsync(string fromRegistrationId, string toRegistrationId, CancellationToken cancellationToken)
    {
        foreach (var row in await db.Consents.Where(c => c.RegistrationId == fromRegistrationId).ToListAsync(cancellationToken))
        {
            var consent = Consent.Parser.ParseFrom(row.Data);
            consent.RegistrationId = toRegistrationId;
            row.RegistrationId = toRegistrationId;
            row.Version++;
            row.Data = consent.ToByteArray();
        }
    }

    private async Task<Consent> WithdrawAsync(string partnerId, Consent withdrawal, List<(string Field, string Description)> problems, CancellationToken cancellationToken)
    {
        if (withdrawal.State != ConsentState.Withdrawn)
        {
            problems.Add(("consent.state", "must be WITHDRAWN when consent_id names an existing consent; a consent is otherwise never changed, record a new one."));
        }
        var today = store.Today();
        var on = withdrawal.WithdrawnOn is null ? today : withdrawal.WithdrawnOn.ToDateOnly();
        if (on is null || on > today)
        {
            problems.Add(("consent.withdrawn_on", "must be a whole calendar day, not in the future (left out means today)."));
        }
        InvalidRequest.ThrowIfAny(problems);
        var row = await db.Consents.FirstOrDefaultAsync(c => c.ConsentId == withdrawal.ConsentId, cancellationToken)
            ?? throw new NotFound($"There is no consent '{withdrawal.ConsentId}'.");
        // Who may withdraw is settled first: an answer about a consent another partner recorded (even
        // "already withdrawn") would tell a caller that could not read it what it says.
        if (row.PartnerId != partnerId && partnerId != "comensha")
        {
            throw new NotAllowed("A consent is withdrawn by the partner that recorded it, or by CoMensha.");
        }
        var consent = Consent.Parser.ParseFrom(row.Data);
        if (consent.State == ConsentState.Withdrawn)
        {
            return consent;
        }
        if (on < consent.GivenOn.ToDateOnly())
        {
            throw new InvalidRequest([("consent.withdrawn_on", "cannot be before the day the consent was given.")]);
        }
        consent.State = ConsentState.Withdrawn;
        consent.WithdrawnOn = on!.Value.ToDate();
        row.Version++;
        row.Data = consent.ToByteArray();
        outbox.Add(RegistryNews.ConsentChanged(consent, row.Version, store.Now()));
        await db.SaveChangesAsync(cancellationToken);
        return consent;
    }

    /// <summary>The consent as it stands today: one past its last day has expired.</summary>
    private Consent Effective(Consent consent)
    {
        if (consent.State == ConsentState.Given && consent.ValidUntil.ToDateOnly() is { } until && until < store.Today())
        {
            consent.State = ConsentState.Expired;
        }
        return consent;
    }
}
