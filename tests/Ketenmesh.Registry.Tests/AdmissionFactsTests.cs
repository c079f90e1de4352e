using Chain.Common.V1;
using Chain.Events.V1;
using Chain.Registry.V1;
using Ketenmesh.Testing;
using static Ketenmesh.Registry.Tests.RegistryHost;
using static Ketenmesh.Registry.Tests.RegistryTestData;

namespace Ketenmesh.Registry.Tests;

/// <summary>
/// What the registry tells the chain about a person's admission (the shelter's COSM facts) and guardian:
/// Dutch by the one rule the legal path uses, and facts told only when they change.
/// </summary>
public sealed class AdmissionFactsTests : IAsyncLifetime
{
    private RegistryHost _host = null!;

    public async Task InitializeAsync() => _host = await StartEmbeddedAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private Task<RegistrationAdmissionFacts> FactsAsync(Registration registration, long version) =>
        EventuallyAsync(() => _host.Events.AdmissionFacts.FirstOrDefault(f => f.RegistrationId == registration.RegistrationId && f.Version == version));

    private async Task<Registration> ResidenceAsync(Registration registration, LegalStay stay) =>
        (await _host.Channel.Registry().RecordResidenceStatusAsync(new RecordResidenceStatusRequest
        {
            RegistrationId = registration.RegistrationId, Residence = new ResidenceStatus { LegalStay = stay },
        }, As("ind"))).Registration;

    [Fact]
    public async Task A_minor_who_only_declares_Dutch_nationality_is_told_to_Nidos_and_is_Dutch_once_the_IND_records_it()
    {
        var declared = await RegisterAsync(_host.Channel, "af-declared-nl", new PersonProfile
        {
            AgeAtRegistration = 16, Nationalities = { new Nationality { CountryCode = "NL", Basis = NationalityBasis.Declared } },
        });

        var registered = await EventuallyAsync(() => _host.Events.Registered.FirstOrDefault(e => e.RegistrationId == declared.RegistrationId));
        var atRegistration = await FactsAsync(declared, declared.Version);
        var recorded = await ResidenceAsync(declared, LegalStay.DutchNational);
        var afterInd = await FactsAsync(declared, recorded.Version);

        // A declared nationality is not a documented one (LegalPathRules.IsDutch): an unaccompanied child
        // who says it is Dutch still gets a guardian, and the shelter does not turn it away as Dutch.
        Assert.Equal(PartnerType.Nidos, registered.Guardian);
        Assert.True(registered.ProtectedShelterNeeded);
        Assert.False(atRegistration.DutchNational);
        Assert.True(afterInd.DutchNational);
    }

    [Fact]
    public async Task A_change_that_moves_no_admission_fact_tells_the_shelter_nothing()
    {
        var registration = await RegisterAsync(_host.Channel, "af-quiet");
        var irregular = await ResidenceAsync(registration, LegalStay.Irregular);
        var asylum = await ResidenceAsync(registration, LegalStay.AsylumSeeker);

        // The asylum procedure is an admission fact: once its facts are heard, those of the earlier change would have been too.
        Assert.True((await FactsAsync(registration, asylum.Version)).AsylumProcedure);
        Assert.Equal(irregular.Version + 1, asylum.Version);
        Assert.Equal([registration.Version, asylum.Version], _host.Events.AdmissionFacts.Where(f => f.RegistrationId == registration.RegistrationId).Select(f => f.Version).Order());
    }
}
