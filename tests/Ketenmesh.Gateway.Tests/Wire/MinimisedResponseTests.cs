using Chain.Risk.V1;
using Ketenmesh.Gateway.Forwarding;
using Ketenmesh.Policy.Masks;

namespace Ketenmesh.Gateway.Tests.Wire;

public sealed class MinimisedResponseTests
{
    [Fact]
    public async Task Disposing_the_minimised_stream_releases_the_services_response_stream()
    {
        // YARP disposes the stream it copied from; if the service's stream were not disposed with it, every call
        // would leave it to the finalizer, which then contends with live calls for the connection's lock.
        var upstream = new TrackedStream();
        var content = new MinimisedResponse(new StreamContent(upstream), ResponseMask.Compile(GetAssessmentResponse.Descriptor, ["*"]), 4096, Call(), new NoAudit(), TimeProvider.System);

        var minimised = await content.ReadAsStreamAsync();
        Assert.Equal(0, await minimised.ReadAsync(new byte[16]));
        Assert.False(upstream.Disposed);
        await minimised.DisposeAsync();

        Assert.True(upstream.Disposed);
    }

    private static PartnerCall Call() =>
        new("chain.risk.v1.RiskAssessment/GetAssessment", "testing", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            DateTimeOffset.UnixEpoch, 0, null, new CancellationTokenSource(), CancellationToken.None)
        {
            Path = "/chain.risk.v1.RiskAssessment/GetAssessment",
            DeclaredPurpose = "testing",
        };

    private sealed class NoAudit : Ketenmesh.Gateway.Access.IDecisionAudit
    {
        public ValueTask RecordAsync(Ketenmesh.Gateway.Access.Decision decision, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    private sealed class TrackedStream() : MemoryStream([])
    {
        public bool Disposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
