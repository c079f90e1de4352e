using Ketenmesh.Signals.Domain;

namespace Ketenmesh.Signals.Tests;

/// <summary>Whose signals a partner reads: its own, and EMM those the police and the inspectorate pass on, for criminal investigation only.</summary>
public sealed class SignalRoutingTests
{
    [Theory]
    [InlineData("municipality", "signalling", "municipality", true)]
    [InlineData("municipality", "signalling", "police", false)]
    [InlineData("emm", "criminal_investigation", "police", true)]
    [InlineData("emm", "criminal_investigation", "inspectorate", true)]
    [InlineData("emm", "criminal_investigation", "municipality", false)]
    [InlineData("emm", "signalling", "police", false)]
    [InlineData("emm", "CRIMINAL_INVESTIGATION", "police", false)]
    [InlineData("police", "criminal_investigation", "inspectorate", false)]
    public void A_partner_reads_its_own_signals_and_EMM_the_ones_passed_on_to_it_for_criminal_investigation(string reader, string purpose, string submitter, bool reads) =>
        Assert.Equal(reads, SignalRouting.MayRead(reader, purpose, submitter));
}
