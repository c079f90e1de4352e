using Chain.Common.V1;
using Chain.Events.V1;
using Chain.Registry.V1;
using Chain.Risk.V1;
using Google.Protobuf;
using Grpc.Core;
using Ketenmesh.Testing;
using static Ketenmesh.Registry.Tests.RegistryHost;
using static Ketenmesh.Registry.Tests.RegistryTestData;

namespace Ketenmesh.Registry.Tests;

/// <summary>The registry on the embedded profile: registrations from assessed signals and directly, linkage, status.</summary>
public sealed class RegistryServiceTests : IAsyncLifetime
{
    private RegistryHost _host = null!;

    public async Task InitializeAsync() => _host = await StartEmbeddedAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static SignalReceived Received(string signalId, params PersonLinkKey[] keys) => Received(signalId, PartnerType.Police, keys);

    private static SignalReceived Received(string signalId, PartnerType reporter, params PersonLinkKey[] keys) => new()
    {
        EventId = Guid.NewGuid().ToString(),
        SignalId = signalId,
        ReporterPartner = reporter,
        SuspectedForm = FormOfExploitation.Sexual,
        Sector = Sector.SexIndustry,
        PersonLinkKeys = { keys },
    };

    private static RiskAssessed Assessed(string signalId, RiskBand band, params EscalationFlag[] flags) =>
        new() { EventId = Guid.NewGuid().ToString(), SignalId = signalId, AssessmentId = $"as-{signalId}", Band = band, EscalationFlags = { flags } };

    [Fact]
    public async Task An_assessed_signal_is_registered_once_whichever_half_arrives_first()
    {
        var key = Key();
        await _host.PublishAsync(Assessed("sig-a", RiskBand.High));
        await _host.PublishAsync(Received("sig-a", key));

        var registered = await EventuallyAsync(() => _host.Events.Registered.FirstOrDefault(e => e.SourceSignalIds.Contains("sig-a")));
        var registration = (await _host.Channel.Registry().GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = registered.RegistrationId }, As("comensha"))).Registration;

        Assert.Equal(VictimStatus.Possible, registration.Status);
        Assert.Equal(PartnerType.Police, registration.ReporterPartner);
        Assert.Equal(FormOfExploitation.Sexual, registration.Exploitation.Form);
        Assert.Equal([key], registration.LinkKeys);
        Assert.Equal("sig-a", Assert.Single(registration.LinkedRecords).RecordId);
    }

    [Fact]
    public async Task A_second_signal_about_the_same_person_is_linked_not_counted_again()
    {
        var passport = Key();
        var phone = Key(LinkKeyKind.PhoneNumber);
        await _host.PublishAsync(Received("sig-b1", passport));
        await _host.PublishAsync(Assessed("sig-b1", RiskBand.Medium));
        var first = await EventuallyAsync(() => _host.Events.Registered.FirstOrDefault(e => e.SourceSignalIds.Contains("sig-b1")));

        await _host.PublishAsync(Received("sig-b2", passport, phone));
        await _host.PublishAsync(Assessed("sig-b2", RiskBand.Critical, EscalationFlag.AcuteDanger));
        var linked = await EventuallyAsync(() => _host.Events.Linked.FirstOrDefault(e => e.SignalId == "sig-b2"));
        var byPhone = await _host.Channel.Registry().FindByLinkKeysAsync(new FindByLinkKeysRequest { LinkKeys = { phone } }, As("police"));

        Assert.Equal(first.RegistrationId, linked.RegistrationId);
        Assert.DoesNotContain(_host.Events.Registered, e => e.SourceSignalIds.Contains("sig-b2"));
        Assert.Equal(first.RegistrationId, Assert.Single(byPhone.Matches).RegistrationId);
    }

    [Fact]
    public async Task Different_people_stay_apart_and_a_low_band_signal_from_a_partner_without_the_duty_is_not_registered()
    {
        await _host.PublishAsync(Received("sig-c1", Key()));
        await _host.PublishAsync(Assessed("sig-c1", RiskBand.Medium));
        await _host.PublishAsync(Received("sig-c2", Key()));
        await _host.PublishAsync(Assessed("sig-c2", RiskBand.Medium));
        await _host.PublishAsync(Received("sig-c3", PartnerType.Municipality, Key()));
        await _host.PublishAsync(Assessed("sig-c3", RiskBand.Low));

        var one = await EventuallyAsync(() => _host.Events.Registered.FirstOrDefault(e => e.SourceSignalIds.Contains("sig-c1")));
        var two = await EventuallyAsync(() => _host.Events.Registered.FirstOrDefault(e => e.SourceSignalIds.Contains("sig-c2")));
        await Task.Delay(300);

        Assert.NotEqual(one.RegistrationId, two.RegistrationId);
        Assert.Equal(VictimStatus.Signalled, one.Status);
        Assert.DoesNotContain(_host.Events.Registered, e => e.SourceSignalIds.Contains("sig-c3"));
    }

    [Fact]
    public async Task A_minor_is_registered_even_in_a_low_band()
    {
        await _host.PublishAsync(Received("sig-d", Key()));
        await _host.PublishAsync(Assessed("sig-d", RiskBand.Low, EscalationFlag.Minor));

        var registered = await EventuallyAsync(() => _host.Events.Registered.FirstOrDefault(e => e.SourceSignalIds.Contains("sig-d")));
        var registration = (await _host.Channel.Registry().GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = registered.RegistrationId }, As("comensha"))).Registration;

        Assert.True(registration.Person.Minor);
    }

    [Fact]
    public async Task Closing_a_registration_tells_the_chain_which_signals_it_came_from()
    {
        await _host.PublishAsync(Received("sig-f", Key()));
        await _host.PublishAsync(Assessed("sig-f", RiskBand.High));
        var registered = await EventuallyAsync(() => _host.Events.Registered.FirstOrDefault(e => e.SourceSignalIds.Contains("sig-f")));

        await _host.Channel.Registry().ChangeStatusAsync(new ChangeStatusRequest { RegistrationId = registered.RegistrationId, NewStatus = VictimStatus.Closed, ClosureReason = RegistrationClosureReason.NotAVictim }, As("comensha"));
        var closed = await EventuallyAsync(() => _host.Events.StatusChanged.FirstOrDefault(e => e.RegistrationId == registered.RegistrationId));

        Assert.Equal(VictimStatus.Possible, closed.PreviousStatus);
        Assert.Equal(VictimStatus.Closed, closed.NewStatus);
        Assert.Equal(RegistrationClosureReason.NotAVictim, closed.ClosureReason);
        Assert.Equal(["sig-f"], closed.SignalIds);
    }

    [Fact]
    public async Task A_redelivered_assessment_registers_nothing_twice()
    {
        var messageId = Guid.NewGuid();
        await _host.PublishAsync(Received("sig-e", Key()));
        await _host.PublishAsync(Assessed("sig-e", RiskBand.High), messageId);
        await _host.PublishAsync(Assessed("sig-e", RiskBand.High), messageId);
        await _host.PublishAsync(Assessed("sig-e", RiskBand.Critical));

        await EventuallyAsync(() => _host.Events.Registered.FirstOrDefault(e => e.SourceSignalIds.Contains("sig-e")));
        await Task.Delay(300);

        Assert.Single(_host.Events.Registered, e => e.SourceSignalIds.Contains("sig-e"));
    }

    [Fact]
    public async Task Direct_registration_is_idempotent_and_names_possible_duplicates()
    {
        var key = Key();
        var request = new RegisterVictimRequest { ClientRequestId = "cm-1", InitialStatus = VictimStatus.Possible, LinkKeys = { key }, Person = new PersonProfile { AgeAtRegistration = 19, AgeAtExploitationStart = 16 } };
        var first = await _host.Channel.Registry().RegisterVictimAsync(request, As("comensha"));
        var again = await _host.Channel.Registry().RegisterVictimAsync(request, As("comensha"));
        var other = await _host.Channel.Registry().RegisterVictimAsync(new RegisterVictimRequest { ClientRequestId = "pol-1", InitialStatus = VictimStatus.Signalled, LinkKeys = { key } }, As("police"));

        Assert.False(first.Duplicate);
        Assert.True(again.Duplicate);
        Assert.Equal(first.Registration.RegistrationId, again.Registration.RegistrationId);
        Assert.Equal(16, first.Registration.Person.AgeAtExploitationStart);
        Assert.Equal(first.Registration.RegistrationId, Assert.Single(other.PossibleMatches).RegistrationId);
    }

    [Fact]
    public async Task Status_moves_forward_identification_needs_an_investigator_and_stale_versions_are_refused()
    {
        var registration = (await _host.Channel.Registry().RegisterVictimAsync(new RegisterVictimRequest { ClientRequestId = "cm-2", InitialStatus = VictimStatus.Signalled, LinkKeys = { Key() } }, As("comensha"))).Registration;

        var presumed = (await _host.Channel.Registry().ChangeStatusAsync(new ChangeStatusRequest { RegistrationId = registration.RegistrationId, NewStatus = VictimStatus.Presumed, ExpectedVersion = registration.Version }, As("comensha"))).Registration;
        var stale = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().ChangeStatusAsync(new ChangeStatusRequest { RegistrationId = registration.RegistrationId, NewStatus = VictimStatus.Identified, ExpectedVersion = registration.Version }, As("police")).ResponseAsync);
        var byCare = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().ChangeStatusAsync(new ChangeStatusRequest { RegistrationId = registration.RegistrationId, NewStatus = VictimStatus.Identified }, As("comensha")).ResponseAsync);
        var back = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().ChangeStatusAsync(new ChangeStatusRequest { RegistrationId = registration.RegistrationId, NewStatus = VictimStatus.Possible }, As("comensha")).ResponseAsync);
        var identified = (await _host.Channel.Registry().ChangeStatusAsync(new ChangeStatusRequest { RegistrationId = registration.RegistrationId, NewStatus = VictimStatus.Identified, ExpectedVersion = presumed.Version }, As("police"))).Registration;
        var closed = (await _host.Channel.Registry().ChangeStatusAsync(new ChangeStatusRequest { RegistrationId = registration.RegistrationId, NewStatus = VictimStatus.Closed, ClosureReason = RegistrationClosureReason.CareCompleted }, As("comensha"))).Registration;
        // A closed registration is only reopened (LegalPathTests), not closed again for another reason.
        var afterClose = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().ChangeStatusAsync(new ChangeStatusRequest { RegistrationId = registration.RegistrationId, NewStatus = VictimStatus.Closed, ClosureReason = RegistrationClosureReason.NoContact }, As("police")).ResponseAsync);

        Assert.Equal(VictimStatus.Presumed, presumed.Status);
        Assert.Equal(registration.Version + 1, presumed.Version);
        Assert.Equal(StatusCode.Aborted, stale.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, byCare.StatusCode);
        Assert.Equal(StatusCode.FailedPrecondition, back.StatusCode);
        Assert.Equal(VictimStatus.Identified, identified.Status);
        Assert.Equal(RegistrationClosureReason.CareCompleted, closed.ClosureReason);
        Assert.Equal(StatusCode.FailedPrecondition, afterClose.StatusCode);
    }

    [Fact]
    public async Task Bad_requests_say_which_field_is_wrong()
    {
        var noKey = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().RegisterVictimAsync(new RegisterVictimRequest { ClientRequestId = "x", InitialStatus = VictimStatus.Identified, LinkKeys = { new PersonLinkKey { Kind = LinkKeyKind.TravelDocument, KeyedHash = ByteString.CopyFromUtf8("NL1234567"), KeyId = "k" } } }, As("comensha")).ResponseAsync);
        var missing = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = "reg-none" }, As("comensha")).ResponseAsync);
        var empty = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().FindByLinkKeysAsync(new FindByLinkKeysRequest(), As("police")).ResponseAsync);
        var statistics = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().GetStatisticsAsync(new GetStatisticsRequest(), As("rapporteur")).ResponseAsync);
        var nobody = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = "reg-none" }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, noKey.StatusCode);
        Assert.Contains("initial_status", noKey.Status.Detail);
        Assert.Contains("link_keys[0]", noKey.Status.Detail);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, empty.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, statistics.StatusCode);
        Assert.Contains("year_from", statistics.Status.Detail);
        Assert.Equal(StatusCode.Unauthenticated, nobody.StatusCode);
    }

    [Fact]
    public async Task A_lookup_by_more_link_keys_than_a_person_has_is_invalid_argument_and_the_registry_keeps_serving()
    {
        var key = Key();
        await _host.Channel.Registry().RegisterVictimAsync(new RegisterVictimRequest { ClientRequestId = "keys-1", InitialStatus = VictimStatus.Possible, LinkKeys = { key } }, As("comensha"));
        FindByLinkKeysRequest Lookup(int keys) => new() { LinkKeys = { Enumerable.Range(0, keys).Select(_ => Key()) } };

        // 20,000 keys built one OR per key into a query that overflowed the stack and took the process down.
        var flood = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().FindByLinkKeysAsync(Lookup(20_000), As("police")).ResponseAsync);
        var oneTooMany = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().FindByLinkKeysAsync(Lookup(21), As("police")).ResponseAsync);
        var registering = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().RegisterVictimAsync(
            new RegisterVictimRequest { ClientRequestId = "keys-2", InitialStatus = VictimStatus.Possible, LinkKeys = { Lookup(21).LinkKeys } }, As("comensha")).ResponseAsync);
        var found = await _host.Channel.Registry().FindByLinkKeysAsync(new FindByLinkKeysRequest { LinkKeys = { Lookup(19).LinkKeys, key } }, As("police"));

        Assert.Equal((StatusCode.InvalidArgument, StatusCode.InvalidArgument, StatusCode.InvalidArgument), (flood.StatusCode, oneTooMany.StatusCode, registering.StatusCode));
        Assert.Contains("link_keys at most 1000 entries, not 20000.", flood.Status.Detail);
        Assert.Contains("link_keys at most 20 link keys, not 21.", oneTooMany.Status.Detail);
        Assert.Contains("at most 20 link keys", registering.Status.Detail);
        Assert.Single(found.Matches);
    }

    [Fact]
    public async Task Ages_must_make_sense_and_a_minor_at_the_start_of_exploitation_is_registered_as_a_minor()
    {
        RegisterVictimRequest Request(string id, PersonProfile person) => new() { ClientRequestId = id, InitialStatus = VictimStatus.Possible, LinkKeys = { Key() }, Person = person };

        var later = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().RegisterVictimAsync(Request("age-1", new PersonProfile { AgeAtRegistration = 20, AgeAtExploitationStart = 22 }), As("comensha")).ResponseAsync);
        var impossible = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().RegisterVictimAsync(Request("age-2", new PersonProfile { AgeAtRegistration = 130, Nationalities = { new Nationality { CountryCode = "nigeria" } } }), As("comensha")).ResponseAsync);
        var contradiction = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Registry().RegisterVictimAsync(Request("age-3", new PersonProfile { AgeAtExploitationStart = 19, Minor = true }), As("comensha")).ResponseAsync);
        var registered = (await _host.Channel.Registry().RegisterVictimAsync(Request("age-4", new PersonProfile { AgeAtRegistration = 23, AgeAtExploitationStart = 15 }), As("comensha"))).Registration;

        Assert.Contains("person.age_at_exploitation_start", later.Status.Detail);
        Assert.Contains("person.age_at_registration", impossible.Status.Detail);
        Assert.Contains("person.nationalities[0].country_code", impossible.Status.Detail);
        Assert.Contains("person.minor", contradiction.Status.Detail);
        Assert.All(new[] { later, impossible, contradiction }, e => Assert.Equal(StatusCode.InvalidArgument, e.StatusCode));
        Assert.True(registered.Person.Minor);
        Assert.Equal(23, registered.Person.AgeAtRegistration);
    }
}
