using Chain.Common.V1;
using Chain.Registry.V1;
using Grpc.Core;
using Ketenmesh.Testing;
using Microsoft.Extensions.DependencyInjection;
using static Ketenmesh.Registry.Tests.RegistryHost;
using static Ketenmesh.Registry.Tests.RegistryTestData;
using FieldMask = Google.Protobuf.WellKnownTypes.FieldMask;

namespace Ketenmesh.Registry.Tests;

/// <summary>
/// Who the reflection period and the residence schemes are for, who gives which statement, and a legal
/// state that stays consistent through corrections, merges, closing and reopening (issue 12, points 2
/// and 3). Run on the embedded registry (SQLite) and on PostgreSQL.
/// </summary>
public abstract class LegalPathScenarios : IAsyncLifetime
{
    protected static readonly DateOnly Today = new(2026, 3, 2);
    protected readonly MovableClock Clock = new(new DateTimeOffset(2026, 3, 2, 10, 0, 0, TimeSpan.Zero));

    protected abstract ChannelBase Client { get; }

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    private VictimRegistry.VictimRegistryClient Registry => Client.Registry();

    private Task<Registration> RegisterAsync(string requestId, PersonProfile? person = null) => RegistryTestData.RegisterAsync(Client, requestId, person);

    private async Task<Registration> StartAsync(Registration registration, string partner = "police", bool detention = false, DateOnly? start = null) =>
        (await Registry.StartReflectionPeriodAsync(new StartReflectionPeriodRequest
        {
            RegistrationId = registration.RegistrationId, StartOn = Day(start ?? Today), InImmigrationDetention = detention,
        }, As(partner))).Registration;

    private async Task<Registration> StateAsync(Registration registration, LegalStatementKind kind, string partner) =>
        (await Registry.RecordLegalStatementAsync(new RecordLegalStatementRequest { RegistrationId = registration.RegistrationId, Kind = kind, GivenOn = Day(Today) }, As(partner))).Registration;

    private async Task<Registration> AangifteAsync(Registration registration, AangifteStatus status, DateOnly? on = null, string partner = "police") =>
        (await Registry.RecordAangifteStatusAsync(new RecordAangifteStatusRequest { RegistrationId = registration.RegistrationId, AangifteStatus = status, StatusOn = Day(on ?? Today) }, As(partner))).Registration;

    private async Task<Registration> ResidenceAsync(Registration registration, ResidenceStatus residence, params string[] mask) =>
        (await Registry.RecordResidenceStatusAsync(new RecordResidenceStatusRequest
        {
            RegistrationId = registration.RegistrationId, Residence = residence, UpdateMask = mask.Length == 0 ? null : new FieldMask { Paths = { mask } },
        }, As("ind"))).Registration;

    private async Task<Registration> StatusAsync(Registration registration, VictimStatus status, string partner, RegistrationClosureReason reason = RegistrationClosureReason.Unspecified) =>
        (await Registry.ChangeStatusAsync(new ChangeStatusRequest { RegistrationId = registration.RegistrationId, NewStatus = status, ClosureReason = reason }, As(partner))).Registration;

    private async Task<Registration> ReadAsync(Registration registration) =>
        (await Registry.GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = registration.RegistrationId }, As("comensha"))).Registration;

    private static async Task<RpcException> RefusedAsync(Func<Task> call) => await Assert.ThrowsAsync<RpcException>(call);

    [Fact]
    public async Task Dutch_national_gets_no_reflection_period()
    {
        var recorded = await RegisterAsync("lp-nl-1");
        await ResidenceAsync(recorded, new ResidenceStatus { LegalStay = LegalStay.DutchNational });
        var documented = await RegisterAsync("lp-nl-2", new PersonProfile { Nationalities = { new Nationality { CountryCode = "NL", Basis = NationalityBasis.Documented } } });

        var byStay = await RefusedAsync(() => StartAsync(recorded));
        var byDocument = await RefusedAsync(() => StartAsync(documented));

        Assert.Equal(StatusCode.FailedPrecondition, byStay.StatusCode);
        Assert.Contains("Dutch", byStay.Status.Detail);
        Assert.Equal(StatusCode.FailedPrecondition, byDocument.StatusCode);
        Assert.Null((await ReadAsync(recorded)).ReflectionPeriod);
        Assert.Null((await ReadAsync(documented)).ReflectionPeriod);
    }

    [Fact]
    public async Task EU_citizen_gets_a_reflection_period_and_aangifte_applies_for_B8_3()
    {
        var registration = await RegisterAsync("lp-eu");
        await ResidenceAsync(registration, new ResidenceStatus { LegalStay = LegalStay.EuCitizen });

        var started = await StartAsync(registration);
        var made = await AangifteAsync(registration, AangifteStatus.Made);

        Assert.Equal(ReflectionPeriodState.Running, started.ReflectionPeriod.State);
        Assert.Equal(ReflectionPeriodState.EndedAangifte, made.ReflectionPeriod.State);
        Assert.Equal(TemporaryResidenceGround.Aangifte, made.Residence.TemporaryResidence.Ground);
        Assert.Equal(ResidenceDecision.Pending, made.Residence.TemporaryResidence.Decision);
    }

    [Theory]
    [InlineData("police", StatusCode.OK)]
    [InlineData("kmar", StatusCode.OK)]
    [InlineData("comensha", StatusCode.PermissionDenied)]
    [InlineData("prosecution", StatusCode.PermissionDenied)]
    [InlineData("ind", StatusCode.PermissionDenied)]
    public async Task Only_the_police_or_KMar_start_a_reflection_period(string partner, StatusCode expected)
    {
        var registration = await RegisterAsync($"lp-start-{partner}");

        var status = StatusCode.OK;
        try
        {
            await StartAsync(registration, partner);
        }
        catch (RpcException e)
        {
            status = e.StatusCode;
        }

        Assert.Equal(expected, status);
        Assert.Equal(expected == StatusCode.OK, (await ReadAsync(registration)).ReflectionPeriod is not null);
    }

    [Fact]
    public async Task In_detention_the_period_starts_only_once_the_OM_and_the_police_each_recorded_their_consent()
    {
        var registration = await RegisterAsync("lp-detention");
#pragma warning disable CS0612 // the deprecated booleans, sent as an old client would: the caller's word for both is no consent
        var claimed = await RefusedAsync(() => Registry.StartReflectionPeriodAsync(new StartReflectionPeriodRequest
        {
            RegistrationId = registration.RegistrationId, StartOn = Day(Today), InImmigrationDetention = true, PoliceConsent = true, ProsecutionConsent = true,
        }, As("police")).ResponseAsync);
#pragma warning restore CS0612
        var forOthers = await RefusedAsync(() => StateAsync(registration, LegalStatementKind.DetentionReflectionConsent, "ind"));
        await StateAsync(registration, LegalStatementKind.DetentionReflectionConsent, "police");
        var policeOnly = await RefusedAsync(() => StartAsync(registration, detention: true));
        var consented = await StateAsync(registration, LegalStatementKind.DetentionReflectionConsent, "prosecution");
        var started = await StartAsync(registration, detention: true);

        Assert.Equal(StatusCode.FailedPrecondition, claimed.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, forOthers.StatusCode);
        Assert.Equal(StatusCode.FailedPrecondition, policeOnly.StatusCode);
        Assert.Contains("Prosecution", policeOnly.Status.Detail);
        Assert.Equal(
            new[] { PartnerType.Police, PartnerType.Prosecution },
            consented.LegalStatements.Where(s => s.Kind == LegalStatementKind.DetentionReflectionConsent).Select(s => s.GivenBy).Order());
        Assert.Equal(ReflectionPeriodState.Running, started.ReflectionPeriod.State);
        Assert.True(started.ReflectionPeriod.InImmigrationDetention);
    }

    [Fact]
    public async Task B8_3_without_aangifte_needs_the_statement_recorded_by_the_partner_who_gives_it()
    {
        var threatened = await RegisterAsync("lp-threat");
        var limited = await RegisterAsync("lp-medical");
        ResidenceStatus Application(TemporaryResidenceGround ground) => new()
        {
            LegalStay = LegalStay.Irregular,
            TemporaryResidence = new TemporaryResidence { Ground = ground, AppliedOn = Day(Today), Decision = ResidenceDecision.Pending },
        };

        var bare = await RefusedAsync(() => ResidenceAsync(threatened, Application(TemporaryResidenceGround.SeriousThreat)));
        var notThePolice = await RefusedAsync(() => StateAsync(threatened, LegalStatementKind.SeriousThreat, "comensha"));
        await StateAsync(threatened, LegalStatementKind.SeriousThreat, "police");
        var onStatement = await ResidenceAsync(threatened, Application(TemporaryResidenceGround.SeriousThreat));
        var bareMedical = await RefusedAsync(() => ResidenceAsync(limited, Application(TemporaryResidenceGround.MedicalPsychological)));
        await StateAsync(limited, LegalStatementKind.MedicalPsychologicalLimits, "care");
        var onView = await ResidenceAsync(limited, Application(TemporaryResidenceGround.MedicalPsychological));

        Assert.Equal(StatusCode.FailedPrecondition, bare.StatusCode);
        Assert.Contains("SERIOUS_THREAT", bare.Status.Detail);
        Assert.Equal(StatusCode.PermissionDenied, notThePolice.StatusCode);
        Assert.Equal(TemporaryResidenceGround.SeriousThreat, onStatement.Residence.TemporaryResidence.Ground);
        Assert.Equal(PartnerType.Police, Assert.Single(onStatement.LegalStatements).GivenBy);
        Assert.Equal(StatusCode.FailedPrecondition, bareMedical.StatusCode);
        Assert.Equal(TemporaryResidenceGround.MedicalPsychological, onView.Residence.TemporaryResidence.Ground);
        Assert.Equal(PartnerType.Care, Assert.Single(onView.LegalStatements).GivenBy);
    }

    [Fact]
    public async Task Continued_residence_is_granted_after_three_years_on_the_permit_or_on_a_recorded_conviction()
    {
        var fresh = await RegisterAsync("lp-continued-1");
        await ResidenceAsync(fresh, new ResidenceStatus
        {
            LegalStay = LegalStay.TraffickingVictimPermit,
            TemporaryResidence = new TemporaryResidence { Ground = TemporaryResidenceGround.Cooperation, AppliedOn = Day(Today), Decision = ResidenceDecision.Granted, DecidedOn = Day(Today) },
        });
        ResidenceStatus Continued(ContinuedResidenceGround ground) => new()
        {
            ContinuedResidence = new ContinuedResidence { Ground = ground, AppliedOn = Day(Today), Decision = ResidenceDecision.Granted, DecidedOn = Day(Today) },
        };
        var sameDay = await RefusedAsync(() => ResidenceAsync(fresh, Continued(ContinuedResidenceGround.ThreeYearsOnScheme), "continued_residence"));
        var noConviction = await RefusedAsync(() => ResidenceAsync(fresh, Continued(ContinuedResidenceGround.Conviction), "continued_residence"));
        var applied = await ResidenceAsync(fresh, new ResidenceStatus { ContinuedResidence = new ContinuedResidence { Ground = ContinuedResidenceGround.Conviction, AppliedOn = Day(Today), Decision = ResidenceDecision.Pending } }, "continued_residence");
        await StateAsync(fresh, LegalStatementKind.Conviction, "prosecution");
        var onConviction = await ResidenceAsync(fresh, Continued(ContinuedResidenceGround.Conviction), "continued_residence");

        var longer = await RegisterAsync("lp-continued-2");
        await ResidenceAsync(longer, new ResidenceStatus
        {
            LegalStay = LegalStay.TraffickingVictimPermit,
            TemporaryResidence = new TemporaryResidence { Ground = TemporaryResidenceGround.Aangifte, AppliedOn = Day(Today.AddYears(-3).AddMonths(-1)), Decision = ResidenceDecision.Granted, DecidedOn = Day(Today.AddYears(-3)) },
        });
        var afterThreeYears = await ResidenceAsync(longer, Continued(ContinuedResidenceGround.ThreeYearsOnScheme), "continued_residence");

        Assert.Equal(StatusCode.FailedPrecondition, sameDay.StatusCode);
        Assert.Contains("3 years", sameDay.Status.Detail);
        Assert.Equal(StatusCode.FailedPrecondition, noConviction.StatusCode);
        Assert.Equal(ResidenceDecision.Pending, applied.Residence.ContinuedResidence.Decision);
        Assert.Equal(ResidenceDecision.Granted, onConviction.Residence.ContinuedResidence.Decision);
        Assert.Equal(ResidenceDecision.Granted, afterThreeYears.Residence.ContinuedResidence.Decision);
    }

    [Fact]
    public async Task A_made_aangifte_is_not_overwritten_but_corrected_with_a_reason_which_withdraws_its_B8_3_application()
    {
        var registration = await StartAsync(await RegisterAsync("lp-correct"), start: Today.AddDays(-10));
        await AangifteAsync(registration, AangifteStatus.Made, Today.AddDays(-2));

        var overwritten = await RefusedAsync(() => AangifteAsync(registration, AangifteStatus.Unknown, partner: "comensha"));
        var noReason = await RefusedAsync(() => Registry.CorrectAangifteStatusAsync(new CorrectAangifteStatusRequest
        {
            RegistrationId = registration.RegistrationId, AangifteStatus = AangifteStatus.IntakeHeld, StatusOn = Day(Today),
        }, As("police")).ResponseAsync);
        var corrected = (await Registry.CorrectAangifteStatusAsync(new CorrectAangifteStatusRequest
        {
            RegistrationId = registration.RegistrationId, AangifteStatus = AangifteStatus.IntakeHeld, StatusOn = Day(Today), Reason = AangifteCorrectionReason.RecordedInError,
        }, As("police"))).Registration;

        Assert.Equal(StatusCode.FailedPrecondition, overwritten.StatusCode);
        Assert.Contains("CorrectAangifteStatus", overwritten.Status.Detail);
        Assert.Equal(StatusCode.InvalidArgument, noReason.StatusCode);
        Assert.Contains("reason", noReason.Status.Detail);
        Assert.Equal(AangifteStatus.IntakeHeld, corrected.AangifteStatus);
        var correction = Assert.Single(corrected.AangifteCorrections);
        Assert.Equal((AangifteStatus.Made, Day(Today.AddDays(-2)), AangifteStatus.IntakeHeld, AangifteCorrectionReason.RecordedInError, PartnerType.Police),
            (correction.Previous, correction.PreviousOn, correction.CorrectedTo, correction.Reason, correction.CorrectedBy));
        Assert.Equal(ResidenceDecision.Withdrawn, corrected.Residence.TemporaryResidence.Decision);
        Assert.Equal(Day(Today), corrected.Residence.TemporaryResidence.DecidedOn);
        // The aangifte that ended the period was never made: the period runs on to its end date.
        Assert.Equal(ReflectionPeriodState.Running, corrected.ReflectionPeriod.State);
        Assert.Null(corrected.ReflectionPeriod.EndedOn);
        Assert.Equal(corrected, await ReadAsync(registration));
    }

    [Fact]
    public async Task Deciding_not_to_make_aangifte_ends_the_period_as_declined_and_aangifte_can_still_follow()
    {
        var registration = await StartAsync(await RegisterAsync("lp-declined"), start: Today.AddDays(-20));

        var declined = await AangifteAsync(registration, AangifteStatus.Declined, Today.AddDays(-5));
        var made = await AangifteAsync(registration, AangifteStatus.Made);

        Assert.Equal(ReflectionPeriodState.EndedDeclined, declined.ReflectionPeriod.State);
        Assert.Equal(Day(Today.AddDays(-5)), declined.ReflectionPeriod.EndedOn);
        Assert.Equal(AangifteStatus.Declined, declined.AangifteStatus);
        Assert.Equal(ReflectionPeriodState.EndedDeclined, made.ReflectionPeriod.State);
        Assert.Equal(TemporaryResidenceGround.Aangifte, made.Residence.TemporaryResidence.Ground);
    }

    [Fact]
    public async Task A_merge_resolves_period_and_aangifte_as_if_on_one_registration_and_keeps_every_statement()
    {
        var inReflection = await StartAsync(await RegisterAsync("lp-merge-1"), start: Today.AddDays(-10));
        var withAangifte = await RegisterAsync("lp-merge-2");
        await StateAsync(withAangifte, LegalStatementKind.SeriousThreat, "police");
        await AangifteAsync(withAangifte, AangifteStatus.Made, Today.AddDays(-3));
        // A third report of the person whose history holds a corrected aangifte and a closing that was reopened.
        var withHistory = await RegisterAsync("lp-merge-3");
        await AangifteAsync(withHistory, AangifteStatus.Made, Today.AddDays(-8));
        await Registry.CorrectAangifteStatusAsync(new CorrectAangifteStatusRequest
        {
            RegistrationId = withHistory.RegistrationId, AangifteStatus = AangifteStatus.Unknown, StatusOn = Day(Today.AddDays(-6)), Reason = AangifteCorrectionReason.WrongPerson,
        }, As("comensha"));
        await StatusAsync(withHistory, VictimStatus.Closed, "comensha", RegistrationClosureReason.NoContact);
        await StatusAsync(withHistory, withHistory.Status, "comensha");

        var survivor = (await Registry.MergeRegistrationsAsync(new MergeRegistrationsRequest
        {
            ClientRequestId = "lp-merge", SurvivingRegistrationId = inReflection.RegistrationId, MergedRegistrationIds = { withAangifte.RegistrationId, withHistory.RegistrationId },
            Reason = MergeReason.DuplicateReport,
        }, As("comensha"))).Registration;

        Assert.Equal(AangifteStatus.Made, survivor.AangifteStatus);
        Assert.Equal(Day(Today.AddDays(-3)), survivor.AangifteStatusOn);
        Assert.Equal(ReflectionPeriodState.EndedAangifte, survivor.ReflectionPeriod.State);
        Assert.Equal(Day(Today.AddDays(-3)), survivor.ReflectionPeriod.EndedOn);
        Assert.Equal(TemporaryResidenceGround.Aangifte, survivor.Residence.TemporaryResidence.Ground);
        Assert.Equal(Day(Today.AddDays(-3)), survivor.Residence.TemporaryResidence.AppliedOn);
        Assert.Equal((LegalStatementKind.SeriousThreat, PartnerType.Police), (Assert.Single(survivor.LegalStatements).Kind, survivor.LegalStatements[0].GivenBy));
        // The corrected aangifte and the reopened closing are the person's history too: the survivor keeps them.
        var correction = Assert.Single(survivor.AangifteCorrections);
        Assert.Equal((AangifteStatus.Made, Day(Today.AddDays(-8)), AangifteStatus.Unknown, AangifteCorrectionReason.WrongPerson, PartnerType.Comensha),
            (correction.Previous, correction.PreviousOn, correction.CorrectedTo, correction.Reason, correction.CorrectedBy));
        var closure = Assert.Single(survivor.Closures);
        Assert.Equal((RegistrationClosureReason.NoContact, withHistory.Status, PartnerType.Comensha, PartnerType.Comensha),
            (closure.Reason, closure.StatusBefore, closure.ClosedBy, closure.ReopenedBy));
        Assert.NotNull(closure.ReopenedAt);
        Assert.Equal(survivor, await ReadAsync(inReflection));
    }

    [Fact]
    public async Task Only_a_certified_investigator_closes_an_identified_victim_as_not_a_victim()
    {
        var registration = await StatusAsync(await RegisterAsync("lp-close"), VictimStatus.Identified, "inspectorate");

        var byCoMensha = await RefusedAsync(() => StatusAsync(registration, VictimStatus.Closed, "comensha", RegistrationClosureReason.NotAVictim));
        var stillOpen = await ReadAsync(registration);
        var byPolice = await StatusAsync(registration, VictimStatus.Closed, "police", RegistrationClosureReason.NotAVictim);

        Assert.Equal(StatusCode.PermissionDenied, byCoMensha.StatusCode);
        Assert.Equal(VictimStatus.Identified, stillOpen.Status);
        Assert.Equal((VictimStatus.Closed, RegistrationClosureReason.NotAVictim), (byPolice.Status, byPolice.ClosureReason));
    }

    [Fact]
    public async Task A_closed_registration_is_reopened_by_a_partner_that_may_close_it_and_keeps_its_closure()
    {
        var identified = await StatusAsync(await RegisterAsync("lp-reopen-1"), VictimStatus.Identified, "police");
        await StatusAsync(identified, VictimStatus.Closed, "kmar", RegistrationClosureReason.NotAVictim);
        var byCoMensha = await RefusedAsync(() => StatusAsync(identified, VictimStatus.Identified, "comensha"));
        var reopened = await StatusAsync(identified, VictimStatus.Identified, "police");

        var possible = await RegisterAsync("lp-reopen-2");
        await StatusAsync(possible, VictimStatus.Closed, "comensha", RegistrationClosureReason.NoContact);
        var backwards = await RefusedAsync(() => StatusAsync(possible, VictimStatus.Signalled, "comensha"));
        var reopenedByCoMensha = await StatusAsync(possible, VictimStatus.Presumed, "comensha");

        Assert.Equal(StatusCode.PermissionDenied, byCoMensha.StatusCode);
        Assert.Equal((VictimStatus.Identified, RegistrationClosureReason.Unspecified), (reopened.Status, reopened.ClosureReason));
        var closure = Assert.Single(reopened.Closures);
        Assert.Equal((RegistrationClosureReason.NotAVictim, VictimStatus.Identified, PartnerType.Kmar, PartnerType.Police),
            (closure.Reason, closure.StatusBefore, closure.ClosedBy, closure.ReopenedBy));
        Assert.NotNull(closure.ReopenedAt);
        Assert.Equal(StatusCode.FailedPrecondition, backwards.StatusCode);
        Assert.Equal(VictimStatus.Presumed, reopenedByCoMensha.Status);
        Assert.Equal(PartnerType.Comensha, Assert.Single(reopenedByCoMensha.Closures).ReopenedBy);
        Assert.Equal(reopenedByCoMensha, await ReadAsync(possible));
    }
}

/// <summary>The legal path on the embedded registry (SQLite).</summary>
public sealed class LegalPathOnSqliteTests : LegalPathScenarios
{
    private RegistryHost _host = null!;

    protected override ChannelBase Client => _host.Channel;

    public override async Task InitializeAsync() => _host = await StartEmbeddedAsync(Clock);

    public override async Task DisposeAsync() => await _host.DisposeAsync();
}

/// <summary>The legal path on PostgreSQL, the database the registry runs on in production.</summary>
public sealed class LegalPathOnPostgresTests : LegalPathScenarios
{
    private TestDatabase _database = null!;
    private ComponentHost _registry = null!;

    protected override ChannelBase Client => _registry.Channel;

    public override async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync("registry");
        var settings = _database.Settings("Database");
        settings["Messaging:Transport"] = "InMemory";
        _registry = await ComponentHost.StartAsync(new RegistryComponent(), settings, (services, _) => services.AddSingleton<TimeProvider>(Clock));
    }

    public override async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        await _database.DisposeAsync();
    }
}
