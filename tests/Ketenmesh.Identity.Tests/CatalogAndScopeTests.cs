using Chain.Common.V1;
using Ketenmesh.Identity.Domain;

namespace Ketenmesh.Identity.Tests;

public sealed class CatalogAndScopeTests
{
    [Fact]
    public void The_seeded_catalog_holds_every_partner_of_the_brief()
    {
        string[] expected = ["police", "kmar", "inspectorate", "prosecution", "ind", "dtv", "coa", "comensha", "shelters",
            "municipality", "riec", "care", "iom", "nidos", "rapporteur", "anonymous", "emm",
            "shelter-pmw", "shelter-acm", "shelter-jade", "shelter-fier", "shelter-womens-utrecht", "shelter-social-den-haag"];
        Assert.Equal(expected.Order(), PartnerCatalog.Seeded.All.Select(p => p.Id).Order());
    }

    [Fact]
    public void Services_read_each_partner_id_as_the_type_the_catalog_gives_it()
    {
        foreach (var partner in PartnerCatalog.Seeded.All)
        {
            Assert.Equal(partner.Type, Ketenmesh.Contracts.PartnerTypes.Of(partner.Id));
        }
    }

    [Fact]
    public void The_rapporteur_may_act_only_for_statistics_and_the_anonymous_line_only_for_signalling()
    {
        Assert.Equal([Purpose.Statistics], PartnerCatalog.Seeded.Find("rapporteur")!.Purposes);
        Assert.Equal([Purpose.Signalling], PartnerCatalog.Seeded.Find("anonymous")!.Purposes);
        Assert.DoesNotContain(Purpose.CriminalInvestigation, PartnerCatalog.Seeded.Find("care")!.Purposes);
    }

    /// <summary>Source: seeds/002…txt L259–261: police and inspectorate pass their signals on to EMM.</summary>
    [Fact]
    public void EMM_is_a_partner_that_acts_for_criminal_investigation_only()
    {
        var emm = PartnerCatalog.Seeded.Find("emm");

        Assert.NotNull(emm);
        Assert.Equal(PartnerType.Emm, emm.Type);
        Assert.Equal([Purpose.CriminalInvestigation], emm.Purposes);
    }

    [Fact]
    public void No_scope_asks_for_all_of_the_partners_purposes()
    {
        var iom = PartnerCatalog.Seeded.Find("iom")!;
        Assert.Equal(iom.Purposes, ScopeRequest.Resolve(iom, null, out _));
    }

    [Fact]
    public void A_scope_narrows_the_token_to_the_purposes_asked_for()
    {
        var police = PartnerCatalog.Seeded.Find("police")!;
        Assert.Equal([Purpose.CriminalInvestigation], ScopeRequest.Resolve(police, "criminal_investigation", out _));
    }

    [Theory]
    [InlineData("care", "criminal_investigation", "may not act for purpose")]
    [InlineData("police", "spying", "is not a purpose")]
    [InlineData("police", "CRIMINAL_INVESTIGATION", "is not a purpose")]
    public void A_scope_outside_the_partners_purposes_is_an_invalid_scope_with_a_reason(string partner, string scope, string reason)
    {
        Assert.Null(ScopeRequest.Resolve(PartnerCatalog.Seeded.Find(partner)!, scope, out var error));
        Assert.Contains(reason, error);
    }
}
