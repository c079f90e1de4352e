using Chain.Registry.V1;
using Ketenmesh.Registry.Domain;

namespace Ketenmesh.Registry.Tests;

/// <summary>Every pair of statuses, against the brief's states written out by hand.</summary>
public sealed class StatusRulesTests
{
    private const VictimStatus S = VictimStatus.Signalled, P = VictimStatus.Possible, Pr = VictimStatus.Presumed, I = VictimStatus.Identified, C = VictimStatus.Closed;

    // signalled → possible → presumed → identified, skipping allowed; any open status → closed.
    private static readonly HashSet<(VictimStatus, VictimStatus)> Allowed =
    [
        (S, P), (S, Pr), (S, I), (P, Pr), (P, I), (Pr, I),
        (S, C), (P, C), (Pr, C), (I, C),
    ];

    public static TheoryData<VictimStatus, VictimStatus> EveryPair()
    {
        var data = new TheoryData<VictimStatus, VictimStatus>();
        foreach (var from in new[] { S, P, Pr, I, C })
        {
            foreach (var to in Enum.GetValues<VictimStatus>())
            {
                data.Add(from, to);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryPair))]
    public void A_transition_is_allowed_exactly_when_the_brief_allows_it(VictimStatus from, VictimStatus to)
    {
        var reason = to == C ? RegistrationClosureReason.NotAVictim : RegistrationClosureReason.Unspecified;

        var refusal = StatusRules.Refusal(from, to, reason, "police");

        Assert.Equal(Allowed.Contains((from, to)), refusal is null);
    }

    [Theory]
    [InlineData("comensha", true)]
    [InlineData("care", true)]
    [InlineData("police", false)]
    [InlineData("kmar", false)]
    [InlineData("inspectorate", false)]
    public void Only_a_certified_investigator_identifies_a_victim(string partner, bool forbidden)
    {
        var refusal = StatusRules.Refusal(Pr, I, RegistrationClosureReason.Unspecified, partner);

        Assert.Equal(forbidden, refusal is { Forbidden: true });
    }

    [Theory]
    [InlineData(RegistrationClosureReason.Unspecified)]
    [InlineData(RegistrationClosureReason.Merged)]
    public void Closing_needs_a_reason_and_merging_is_not_one_to_give_by_hand(RegistrationClosureReason reason) =>
        Assert.NotNull(StatusRules.Refusal(P, C, reason, "comensha"));

    [Fact]
    public void A_closure_reason_without_closing_is_refused() =>
        Assert.NotNull(StatusRules.Refusal(S, P, RegistrationClosureReason.NotAVictim, "comensha"));

    [Theory]
    [InlineData("comensha", true)]
    [InlineData("care", true)]
    [InlineData("prosecution", true)]
    [InlineData("police", false)]
    [InlineData("kmar", false)]
    [InlineData("inspectorate", false)]
    public void Only_a_certified_investigator_closes_an_identified_victim_as_not_a_victim(string partner, bool forbidden)
    {
        var refusal = StatusRules.Refusal(I, C, RegistrationClosureReason.NotAVictim, partner);

        Assert.Equal(forbidden, refusal is { Forbidden: true });
    }

    [Fact]
    public void Any_partner_that_changes_status_closes_an_identified_victim_for_another_reason() =>
        Assert.Null(StatusRules.Refusal(I, C, RegistrationClosureReason.CareCompleted, "comensha"));
}
