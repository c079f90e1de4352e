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

    static readonly IReadOnlyList<FieldNode> Registration = FieldTree.Of(GetRegistrationResponse.Descriptor, Comments);

    static readonly List<string> PersonFields = FieldTree.Flatten(FieldTree.Flatten(Registration).Single(n => n.Path == "registration.person").Children).Select(n => n.Path).ToList();

    /// <summary>The page as it shows <paramref name="mask"/>, then the officer's changes, then the mask saved.</summary>
    static IReadOnlyList<string> Save(string[] mask, Func<HashSet<string>, IEnumerable<string>> officer)
    {
        var shown = FieldTree.Shown(mask, Registration).ToList();
        return FieldTree.ToMask(officer(shown.ToHashSet()), shown, Registration);
    }

    [Fact]
    public void Ticking_a_message_lets_all_of_it_through_even_when_one_of_its_fields_was_ticked_before()
    {
        Assert.Equal(["registration.person"], Save(["registration.person.minor"], ticks => ticks.Append("registration.person")));
        Assert.Equal(["registration.person", "registration.status"], Save([], _ => ["registration.status", "registration.person"]));
    }

    [Fact]
    public void Unticking_one_field_of_a_message_shown_whole_keeps_its_other_fields()
    {
        Assert.Contains("registration.person.sex", PersonFields);
        var saved = Save(["registration.person"], ticks => ticks.Where(p => p != "registration.person.sex"));
        Assert.DoesNotContain("registration.person", saved);
        Assert.DoesNotContain("registration.person.sex", saved);
        Assert.Contains("registration.person.nationalities", saved);
        Assert.All(saved, p => Assert.StartsWith("registration.person.", p));
    }

    [Fact]
    public void Unticking_a_message_or_every_field_of_it_lets_none_of_it_through()
    {
        // The message's box alone unticked, its fields left as they were shown.
        Assert.Equal(["registration.status"], Save(["registration.person", "registration.status"], ticks => ticks.Where(p => p != "registration.person")));
        // Every field unticked, the message's box left ticked.
        Assert.Equal(["registration.status"], Save(["registration.person", "registration.status"], ticks => ticks.Except(PersonFields)));
    }

    [Fact]
    public void A_mask_shown_and_saved_unchanged_is_the_same_mask_and_a_path_the_editor_did_not_show_is_no_field()
    {
        Assert.Equal(["registration.person", "registration.status"], Save(["registration.status", "registration.person"], ticks => ticks));
        Assert.Equal(["registration.person.minor"], Save([], _ => ["registration.person.minor", "registration.nothing", ""]));
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
