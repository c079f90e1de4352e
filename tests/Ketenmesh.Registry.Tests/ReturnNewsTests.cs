using System.Collections.Concurrent;
using Chain.Common.V1;
using Chain.Events.V1;
using Chain.Registry.V1;
using Ketenmesh.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using static Ketenmesh.Registry.Tests.RegistryHost;
using static Ketenmesh.Registry.Tests.RegistryTestData;

namespace Ketenmesh.Registry.Tests;

/// <summary>What the registry tells return coordination: residence decisions and consents, as events, in the same transaction as the change.</summary>
public sealed class ReturnNewsTests : IAsyncLifetime
{
    private readonly ReturnNews _news = new();
    private ComponentHost _host = null!;

    public async Task InitializeAsync() => _host = await ComponentHost.StartEmbeddedAsync(new RegistryComponent(), (services, bus) =>
    {
        services.AddSingleton(_news);
        bus.AddConsumer<ReturnNewsProbe>();
    });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static DateOnly Today => DateOnly.FromDateTime(DateTime.UtcNow);

    [Fact]
    public async Task A_residence_decision_is_published_with_the_registrations_version()
    {
        var registration = await RegisterAsync(_host.Channel, "news-1");
        var decided = (await _host.Channel.Registry().RecordResidenceStatusAsync(new RecordResidenceStatusRequest
        {
            RegistrationId = registration.RegistrationId,
            Residence = new ResidenceStatus
            {
                LegalStay = LegalStay.Irregular,
                TemporaryResidence = new TemporaryResidence { Ground = TemporaryResidenceGround.Aangifte, AppliedOn = Day(Today), Decision = ResidenceDecision.Refused, DecidedOn = Day(Today) },
            },
        }, As("ind"))).Registration;

        var news = await EventuallyAsync(() => _news.Residence.FirstOrDefault(e => e.RegistrationId == registration.RegistrationId));

        Assert.Equal(decided.Version, news.RegistrationVersion);
        Assert.Equal(ResidenceDecision.Refused, news.TemporaryResidenceDecision);
        Assert.Equal(LegalStay.Irregular, news.LegalStay);
    }

    [Fact]
    public async Task A_consent_and_its_withdrawal_are_published_without_the_signed_form()
    {
        var registration = await RegisterAsync(_host.Channel, "news-2");
        var consent = (await _host.Channel.Registry().RecordConsentAsync(new RecordConsentRequest
        {
            ClientRequestId = "news-consent",
            Consent = new Consent
            {
                RegistrationId = registration.RegistrationId, Giver = ConsentGiver.Victim, DisclosingPartner = PartnerType.Iom, RecipientPartner = PartnerType.Comensha,
                Topics = { DisclosureTopic.Return }, Form = ConsentForm.Written, GivenOn = Day(Today), DocumentReference = "iom/file-7",
            },
        }, As("iom"))).Consent;
        var given = await EventuallyAsync(() => _news.Consents.FirstOrDefault(e => e.ConsentId == consent.ConsentId));
        await _host.Channel.Registry().RecordConsentAsync(new RecordConsentRequest
        {
            ClientRequestId = "news-withdraw",
            Consent = new Consent { ConsentId = consent.ConsentId, State = ConsentState.Withdrawn },
        }, As("iom"));
        var withdrawn = await EventuallyAsync(() => _news.Consents.FirstOrDefault(e => e.ConsentId == consent.ConsentId && e.State == ConsentState.Withdrawn));

        Assert.Equal(1, given.Version);
        Assert.Equal(2, withdrawn.Version);
        Assert.Equal(ConsentState.Given, given.State);
        Assert.Equal(ConsentForm.Written, given.Form);
        Assert.Equal(PartnerType.Iom, given.DisclosingPartner);
        Assert.Equal(PartnerType.Comensha, given.RecipientPartner);
        Assert.Equal([DisclosureTopic.Return], given.Topics);
        Assert.Equal(registration.RegistrationId, withdrawn.RegistrationId);
        Assert.DoesNotContain("iom/file-7", given.ToString());
    }
}

public sealed class ReturnNews
{
    public ConcurrentQueue<ResidenceStatusRecorded> Residence { get; } = new();

    public ConcurrentQueue<ConsentChanged> Consents { get; } = new();
}

public sealed class ReturnNewsProbe(ReturnNews news) : IConsumer<ResidenceStatusRecorded>, IConsumer<ConsentChanged>
{
    public Task Consume(ConsumeContext<ResidenceStatusRecorded> context)
    {
        news.Residence.Enqueue(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<ConsentChanged> context)
    {
        news.Consents.Enqueue(context.Message);
        return Task.CompletedTask;
    }
}
