using Grpc.Core;
using Ketenmesh.OfficerConsole.Audit;
using Ketenmesh.OfficerConsole.Dashboard;
using Ketenmesh.OfficerConsole.Grants;

namespace Ketenmesh.OfficerConsole.Tests;

/// <summary>What an officer reads when a service the console calls refuses: plain words, never the service's own status text.</summary>
public sealed class PlainWordsTests
{
    // A detail as a failing service may send it: an officer must not be shown it, it means nothing to them.
    const string ServerDetail = "Npgsql.NpgsqlException: Exception while reading from stream at Ketenmesh.Policy.Store";

    static RpcException Refusal(StatusCode code) => new(new Status(code, ServerDetail));

    [Fact]
    public void A_service_that_cannot_be_reached_reads_as_try_again_in_a_moment_naming_the_service()
    {
        Assert.Equal("The sharing-policy service cannot be reached right now. Try again in a moment.", PlainWords.Of(Refusal(StatusCode.Unavailable), "the sharing-policy service"));
        // Each page names the service it called, so the officer knows which one is away.
        Assert.Equal("The gateway's audit log cannot be reached right now. Try again in a moment.", AuditTrailAsOfficer.PlainWords(Refusal(StatusCode.Unavailable)));
        Assert.Equal("The registry cannot be reached right now. Try again in a moment.", RapporteurStatistics.PlainWords(Refusal(StatusCode.Unavailable)));
    }

    [Fact]
    public void A_call_that_ran_out_of_time_reads_like_one_that_could_not_be_reached()
    {
        Assert.Equal("The sharing-policy service cannot be reached right now. Try again in a moment.", PolicyAdmin.PlainWords(Refusal(StatusCode.DeadlineExceeded)));
    }

    [Fact]
    public void An_expired_session_tells_the_officer_to_sign_in_again_on_every_page()
    {
        const string SignInAgain = "Your session has ended. Sign in again.";
        Assert.Equal(SignInAgain, PlainWords.Of(Refusal(StatusCode.Unauthenticated), "the sharing-policy service"));
        Assert.Equal(SignInAgain, PolicyAdmin.PlainWords(Refusal(StatusCode.Unauthenticated)));
        Assert.Equal(SignInAgain, AuditTrailAsOfficer.PlainWords(Refusal(StatusCode.Unauthenticated)));
        Assert.Equal(SignInAgain, RapporteurStatistics.PlainWords(Refusal(StatusCode.Unauthenticated)));
    }

    [Theory]
    [InlineData(StatusCode.Internal)]
    [InlineData(StatusCode.Unknown)]
    public void An_internal_failure_says_something_went_wrong_and_nothing_changed_without_the_servers_detail(StatusCode code)
    {
        var words = PolicyAdmin.PlainWords(Refusal(code));
        Assert.Equal("Something went wrong in the sharing-policy service. Nothing was changed.", words);
        Assert.DoesNotContain("Npgsql", words, StringComparison.Ordinal);
        Assert.Equal("Something went wrong in the gateway's audit log. Nothing was changed.", AuditTrailAsOfficer.PlainWords(Refusal(code)));
    }

    [Fact]
    public void A_pages_own_words_for_a_refusal_come_before_the_general_ones()
    {
        Assert.Equal("Your draft needs a second officer's approval before it can be published.",
            PlainWords.Of(Refusal(StatusCode.Unavailable), "the sharing-policy service", "Your draft needs a second officer's approval before it can be published."));
        Assert.Equal("You drafted this version yourself: a second privacy officer must approve it.",
            PolicyAdmin.PlainWords(new RpcException(new Status(StatusCode.PermissionDenied, "Four eyes: the officer who drafted a version cannot approve it."))));
    }
}
