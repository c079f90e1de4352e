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
    public void A_ticked_message_keeps_all_its_fields_unless_some_of_them_are_unticked()
    {
        var tree = FieldTree.Of(GetRegistrationResponse.Descriptor, Comments);
        var person = FieldTree.Flatten(tree).Single(n => n.Path == "registration.person");
        var all = FieldTree.Flatten(person.Children).Select(n => n.Path).ToList();
        Assert.Contains("registration.person.sex", all);
        // The message alone, or with every field: the whole message.
        Assert.Equal(["registration.person", "registration.status"], FieldTree.ToMask(["registration.status", "registration.person"], tree));
        Assert.Equal(["registration.person"], FieldTree.ToMask([.. all, "registration.person"], tree));
        // Shown whole and one field unticked: the others, not the message.
        var unticked = FieldTree.ToMask([.. all.Where(p => p != "registration.person.sex"), "registration.person"], tree);
        Assert.DoesNotContain("registration.person", unticked);
        Assert.DoesNotContain("registration.person.sex", unticked);
        Assert.Contains("registration.person.nationalities", unticked);
        Assert.All(unticked, p => Assert.StartsWith("registration.person.", p));
        // A field alone under an unticked message; a path the editor did not show is no field.
        Assert.Equal(["registration.person.minor"], FieldTree.ToMask(["registration.person.minor", "registration.nothing", ""], tree));
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
