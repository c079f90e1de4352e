using Chain.Policy.V1;
using Chain.Registry.V1;
using Chain.Risk.V1;
using Ketenmesh.OfficerConsole.Grants;

namespace Ketenmesh.OfficerConsole.Tests;

/// <summary>The editor's field tree from the descriptors, and the descriptions it takes from the protos' comments.</summary>
public sealed class FieldTreeTests
{
    static readonly ProtoComments Comments = ProtoComments.Load();

    [Fact]
    public void A_fields_description_is_its_proto_comment_from_the_build_time_descriptor_set()
    {
        // Written in protos/chain/policy/v1/policy_types.proto; the generated C# holds no comments.
        Assert.Contains("withheld from data-subject access reports", Comments.Of(Grant.Descriptor.FindFieldByName("confidential")));
        Assert.Contains("Full method name", Comments.Of(MethodRule.Descriptor.FindFieldByName("method")));
        Assert.Equal("", Comments.Of("chain.nothing.v1.Nothing.here"));
    }

    [Fact]
    public void The_tree_descends_into_nested_and_repeated_messages_with_mask_paths()
    {
        var tree = FieldTree.Of(ListRuleSetsResponse.Descriptor, Comments);
        var ruleSets = Assert.Single(tree, n => n.Path == "rule_sets");
        Assert.True(ruleSets.Repeated);
        var rules = Assert.Single(ruleSets.Children, n => n.Path == "rule_sets.rules");
        Assert.True(rules.Repeated);
        Assert.NotEmpty(rules.Children);
        Assert.All(rules.Children, c => Assert.StartsWith("rule_sets.rules.", c.Path));
        // Timestamps are one value to an officer, not seconds and nanos.
        Assert.Empty(Assert.Single(ruleSets.Children, n => n.Path == "rule_sets.activated_at").Children);
        Assert.All(FieldTree.Flatten(FieldTree.Of(GetRegistrationResponse.Descriptor, Comments)), n => Assert.NotEqual("", n.Description));
    }

    [Fact]
    public void A_ticked_message_makes_its_ticked_children_redundant_in_the_mask()
    {
        Assert.Equal(
            ["registration.person", "registration.status"],
            FieldTree.ToMask(["registration.status", "registration.person.minor", "registration.person", "", "registration.person.sex"]));
        Assert.True(FieldTree.Keeps(["registration.person"], "registration.person.minor"));
        Assert.False(FieldTree.Keeps(["registration.person"], "registration.personal"));
        Assert.True(FieldTree.Keeps(["*"], "anything"));
    }

    [Fact]
    public void The_diff_marks_only_the_lines_that_changed()
    {
        var diff = LineDiff.Of("a\nb\nc", "a\nB\nc\nd");
        Assert.Equal(["  a", "- b", "+ B", "  c", "+ d"], diff.Select(l => $"{l.Kind} {l.Text}"));
    }
}
