using Chain.Registry.V1;
using Grpc.Core;
using Ketenmesh.Testing;
using static Ketenmesh.Registry.Tests.RegistryHost;
using static Ketenmesh.Registry.Tests.RegistryTestData;

namespace Ketenmesh.Registry.Tests;

/// <summary>Reflection period (bedenktijd), aangifte and residence on the embedded registry, with a clock the test moves.</summary>
public sealed class ReflectionPeriodTests : IAsyncLifetime
{
    private static readonly DateOnly Today = new(2026, 3, 2);
    private readonly MovableClock _clock = new(new DateTimeOffset(2026, 3, 2, 10, 0, 0, TimeSpan.Zero));
    private RegistryHost _host = null!;

    public async Task InitializeAsync() => _host = await StartEmbeddedAsync(_clock);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<Registration> StartAsync(Registration registration, DateOnly start, DateOnly? end = null, string partner = "police") =>
        (await _host.Channel.Registry().StartReflectionPeriodAsync(new StartReflectionPeriodRequest { RegistrationId = registration.RegistrationId, StartOn = Day(start), EndOn = end is { } e ? Day(e) : null }, As(partner))).Registration;

    private async Task<RpcException> RefusedAsync(Task call) => await Assert.ThrowsAsync<RpcException>(() => call);

    [Fact]
    public async Task A_reflection_period_runs_three_months_by_default_and_puts_aangifte_in_reflection()
    {
        var registration = await RegisterAsync(_host.Channel, "rp-1");
        var started = await StartAsync(registration, Today);

        Assert.Equal(ReflectionPeriodState.Running, started.ReflectionPeriod.State);
        Assert.Equal(Day(Today.AddMonths(3)), started.ReflectionPeriod.EndOn);
        Assert.Equal(AangifteStatus.InReflectionPeriod, started.AangifteStatus);
        Assert.Equal(Day(Today), started.AangifteStatusOn);
        Assert.Equal(registration.Version + 1, started.Version);
    }

    [Fact]
    public async Task A_period_longer_than_three_months_a_second_period_and_one_starting_in_the_future_are_refused()
    {
        var registration = await RegisterAsync(_host.Channel, "rp-2");
        var tooLong = await RefusedAsync(StartAsync(registration, Today, Today.AddMonths(3).AddDays(1)));
        await StartAsync(registration, Today);
        var second = await RefusedAsync(StartAsync(registration, Today, partner: "kmar"));
        var future = await RefusedAsync(StartAsync(await RegisterAsync(_host.Channel, "rp-2b"), Today.AddDays(1)));

        Assert.Equal(StatusCode.InvalidArgument, tooLong.StatusCode);
        Assert.Contains("end_on", tooLong.Status.Detail);
        Assert.Equal(StatusCode.FailedPrecondition, second.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, future.StatusCode);
        Assert.Contains("start_on", future.Status.Detail);
    }

    [Fact]
    public async Task Aangifte_ends_the_reflection_period_and_applies_for_B8_3_residence()
    {
        var registration = await StartAsync(await RegisterAsync(_host.Channel, "rp-3"), Today.AddDays(-10));
        var made = (await _host.Channel.Registry().RecordAangifteStatusAsync(new RecordAangifteStatusRequest
        {
            RegistrationId = registration.RegistrationId, AangifteStatus = AangifteStatus.Made, StatusOn = Day(Today), ExpectedVersion = registration.Version,
        }, As("police"))).Registration;

        Assert.Equal(AangifteStatus.Made, made.AangifteStatus);
        Assert.Equal(ReflectionPeriodState.EndedAangifte, made.ReflectionPeriod.State);
        Assert.Equal(Day(Today), made.ReflectionPeriod.EndedOn);
        Assert.Equal(TemporaryResidenceGround.Aangifte, made.Residence.TemporaryResidence.Ground);
        Assert.Equal(ResidenceDecision.Pending, made.Residence.TemporaryResidence.Decision);
        var late = await RefusedAsync(StartAsync(made, Today));
        Assert.Equal(StatusCode.FailedPrecondition, late.StatusCode);
    }

    [Fact]
    public async Task Aangifte_in_reflection_needs_a_running_period()
    {
        var registration = await RegisterAsync(_host.Channel, "rp-4");
        var withoutPeriod = await RefusedAsync(_host.Channel.Registry().RecordAangifteStatusAsync(new RecordAangifteStatusRequest
        {
            RegistrationId = registration.RegistrationId, AangifteStatus = AangifteStatus.InReflectionPeriod, StatusOn = Day(Today),
        }, As("police")).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, withoutPeriod.StatusCode);
        Assert.Equal(AangifteStatus.Unspecified, (await _host.Channel.Registry().GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = registration.RegistrationId }, As("comensha"))).Registration.AangifteStatus);
    }

    [Fact]
    public async Task Residence_is_written_by_mask_so_the_IND_can_record_a_decision_alone()
    {
        var registration = await RegisterAsync(_host.Channel, "rp-5");
        await _host.Channel.Registry().RecordLegalStatementAsync(new RecordLegalStatementRequest
        {
            RegistrationId = registration.RegistrationId, Kind = LegalStatementKind.SeriousThreat, GivenOn = Day(Today.AddDays(-31)),
        }, As("police"));
        await _host.Channel.Registry().RecordResidenceStatusAsync(new RecordResidenceStatusRequest
        {
            RegistrationId = registration.RegistrationId,
            Residence = new ResidenceStatus { LegalStay = LegalStay.Irregular, TemporaryResidence = new TemporaryResidence { Ground = TemporaryResidenceGround.SeriousThreat, AppliedOn = Day(Today.AddDays(-30)), Decision = ResidenceDecision.Pending } },
        }, As("ind"));
        var decided = (await _host.Channel.Registry().RecordResidenceStatusAsync(new RecordResidenceStatusRequest
        {
            RegistrationId = registration.RegistrationId,
            Residence = new ResidenceStatus { LegalStay = LegalStay.TraffickingVictimPermit, TemporaryResidence = new TemporaryResidence { Decision = ResidenceDecision.Granted, DecidedOn = Day(Today) } },
            UpdateMask = new Google.Protobuf.WellKnownTypes.FieldMask { Paths = { "legal_stay", "temporary_residence.decision", "temporary_residence.decided_on" } },
        }, As("ind"))).Registration;
        var badPath = await RefusedAsync(_host.Channel.Registry().RecordResidenceStatusAsync(new RecordResidenceStatusRequest
        {
            RegistrationId = registration.RegistrationId, Residence = new ResidenceStatus(), UpdateMask = new Google.Protobuf.WellKnownTypes.FieldMask { Paths = { "temporary_residence.judge" } },
        }, As("ind")).ResponseAsync);
        var decidedWhilePending = await RefusedAsync(_host.Channel.Registry().RecordResidenceStatusAsync(new RecordResidenceStatusRequest
        {
            RegistrationId = registration.RegistrationId,
            Residence = new ResidenceStatus { TemporaryResidence = new TemporaryResidence { Ground = TemporaryResidenceGround.Aangifte, Decision = ResidenceDecision.Pending, DecidedOn = Day(Today) } },
        }, As("ind")).ResponseAsync);

        Assert.Equal(LegalStay.TraffickingVictimPermit, decided.Residence.LegalStay);
        Assert.Equal(TemporaryResidenceGround.SeriousThreat, decided.Residence.TemporaryResidence.Ground);
        Assert.Equal(Day(Today.AddDays(-30)), decided.Residence.TemporaryResidence.AppliedOn);
        Assert.Equal(ResidenceDecision.Granted, decided.Residence.TemporaryResidence.Decision);
        Assert.Equal(StatusCode.InvalidArgument, badPath.StatusCode);
        Assert.Contains("temporary_residence.judge", badPath.Status.Detail);
        Assert.Equal(StatusCode.InvalidArgument, decidedWhilePending.StatusCode);
        Assert.Contains("decided_on", decidedWhilePending.Status.Detail);
    }

    [Fact]
    public async Task The_chain_is_reminded_once_before_a_period_runs_out_and_the_period_then_expires()
    {
        var registration = await StartAsync(await RegisterAsync(_host.Channel, "rp-6"), Today, Today.AddDays(30));
        await Task.Delay(400);
        Assert.Empty(_host.Events.ReflectionEnding);

        _clock.Advance(TimeSpan.FromDays(20));
        var reminder = await EventuallyAsync(() => _host.Events.ReflectionEnding.FirstOrDefault(e => e.RegistrationId == registration.RegistrationId));
        Assert.Equal(Day(Today.AddDays(30)), reminder.EndsOn);
        Assert.Equal(10, reminder.DaysRemaining);

        _clock.Advance(TimeSpan.FromDays(5));
        await Task.Delay(400);
        Assert.Single(_host.Events.ReflectionEnding, e => e.RegistrationId == registration.RegistrationId);

        _clock.Advance(TimeSpan.FromDays(6));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        Registration read;
        do
        {
            read = (await _host.Channel.Registry().GetRegistrationAsync(new GetRegistrationRequest { RegistrationId = registration.RegistrationId }, As("comensha"))).Registration;
            await Task.Delay(50);
        }
        while (read.ReflectionPeriod.State == ReflectionPeriodState.Running && DateTime.UtcNow < deadline);
        Assert.Equal(ReflectionPeriodState.Expired, read.ReflectionPeriod.State);
        Assert.Equal(Day(Today.AddDays(30)), read.ReflectionPeriod.EndedOn);
        Assert.Single(_host.Events.ReflectionEnding, e => e.RegistrationId == registration.RegistrationId);
    }

    [Fact]
    public async Task Empty_or_unknown_requests_to_the_legal_path_say_which_field_or_registration()
    {
        var reflection = await RefusedAsync(_host.Channel.Registry().StartReflectionPeriodAsync(new StartReflectionPeriodRequest(), As("police")).ResponseAsync);
        var aangifte = await RefusedAsync(_host.Channel.Registry().RecordAangifteStatusAsync(new RecordAangifteStatusRequest { AangifteStatus = (AangifteStatus)99 }, As("police")).ResponseAsync);
        var residence = await RefusedAsync(_host.Channel.Registry().RecordResidenceStatusAsync(new RecordResidenceStatusRequest(), As("ind")).ResponseAsync);
        var unknown = await RefusedAsync(_host.Channel.Registry().StartReflectionPeriodAsync(new StartReflectionPeriodRequest { RegistrationId = "reg-nobody", StartOn = Day(Today) }, As("police")).ResponseAsync);

        Assert.All(new[] { reflection, aangifte, residence }, e => Assert.Equal(StatusCode.InvalidArgument, e.StatusCode));
        Assert.Contains("registration_id", reflection.Status.Detail);
        Assert.Contains("start_on", reflection.Status.Detail);
        Assert.Contains("aangifte_status", aangifte.Status.Detail);
        Assert.Contains("status_on", aangifte.Status.Detail);
        Assert.Contains("residence is required", residence.Status.Detail);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("reg-nobody", unknown.Status.Detail);
    }
}
