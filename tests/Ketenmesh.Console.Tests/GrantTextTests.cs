using Chain.Policy.V1;
using Ketenmesh.OfficerConsole.Grants;

namespace Ketenmesh.OfficerConsole.Tests;

/// <summary>How the editor words the policy service's refusal of a draft: the editor's labels, not proto paths.</summary>
public sealed class GrantTextTests
{
    static readonly Grant TwoMethods = new()
    {
        Methods =
        {
            new MethodRule { Method = "chain.risk.v1.RiskAssessment/ListRuleSets" },
            new MethodRule { Method = "chain.risk.v1.RiskAssessment/GetAssessment" },
        },
    };

    [Fact]
    public void A_violation_names_the_editors_control_and_the_fields_it_mentions()
    {
        Assert.Equal("Valid until: must be after valid from", GrantText.Violation(TwoMethods, "grant.valid_until", "must be after valid_from"));
        Assert.Equal("Legal basis: must state the legal ground for the processing", GrantText.Violation(TwoMethods, "grant.legal_basis", "must state the legal ground for the processing"));
    }

    [Fact]
    public void A_violation_of_a_method_rule_names_the_method()
    {
        Assert.Equal(
            "Response fields of chain.risk.v1.RiskAssessment/GetAssessment: must be set",
            GrantText.Violation(TwoMethods, "grant.methods[1].response_mask", "must be set"));
        Assert.Equal(
            "Request fields that must be set of a method: 'x' is not a field",
            GrantText.Violation(TwoMethods, "grant.methods[7].required_request_fields", "'x' is not a field"));
    }

    [Fact]
    public void A_problem_in_another_grant_is_said_as_the_service_says_it_not_pinned_on_a_method_of_the_draft()
    {
        Assert.Equal(
            "With this draft, grant 'coa-reads' grant.methods[0].response_mask: shows less than a write discloses",
            GrantText.Violation(TwoMethods, "grant.methods[0].response_mask", "with this draft, grant 'coa-reads' grant.methods[0].response_mask: shows less than a write discloses"));
    }

    [Fact]
    public void A_field_name_inside_a_dotted_path_is_left_as_it_is()
    {
        Assert.Equal(
            "Response fields of chain.risk.v1.RiskAssessment/ListRuleSets: registration.valid_until is not a field; valid from is",
            GrantText.Violation(TwoMethods, "grant.methods[0].response_mask", "registration.valid_until is not a field; valid_from is"));
    }

    [Fact]
    public void A_field_the_editor_has_no_label_for_keeps_its_own_name()
    {
        Assert.Equal("grant: is required", GrantText.Violation(TwoMethods, "grant", "is required"));
        Assert.Equal("rule_sets.nothing: no such field", GrantText.Violation(TwoMethods, "rule_sets.nothing", "no such field"));
    }
}
