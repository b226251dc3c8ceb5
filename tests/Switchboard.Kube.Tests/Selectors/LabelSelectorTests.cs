using k8s.Models;
using Switchboard.Kube.Selectors;

namespace Switchboard.Kube.Tests.Selectors;

public sealed class LabelSelectorTests
{
    private static readonly Dictionary<string, string> Labels = new() { ["app"] = "web", ["tier"] = "frontend", ["replicas"] = "3", ["empty"] = "" };

    [Theory]
    [InlineData("app=web", true)]
    [InlineData("app==web", true)]
    [InlineData("app = web", true)]
    [InlineData("app!=web", false)]
    [InlineData("missing!=web", true)]
    [InlineData("app in (db, web)", true)]
    [InlineData("app notin (db,web)", false)]
    [InlineData("missing notin (db)", true)]
    [InlineData("tier", true)]
    [InlineData("!tier", false)]
    [InlineData("!missing", true)]
    [InlineData("app=web,tier=backend", false)]
    [InlineData("app in (web),tier notin (backend)", true)]
    [InlineData("empty=", true)]
    [InlineData("empty in ()", true)]
    [InlineData("app in (web,)", true)]
    [InlineData("replicas>2", true)]
    [InlineData("replicas<3", false)]
    [InlineData("app>2", false)]
    [InlineData("in=in", false)]
    [InlineData("", true)]
    [InlineData("   ", true)]
    public void Parses_and_matches_the_query_string_grammar_of_labels_Parse(string selector, bool expected) =>
        Assert.Equal(expected, LabelSelector.Parse(selector).Matches(Labels));

    [Theory]
    [InlineData("app in web", "unable to parse requirement: found 'web' expected: '('")]
    [InlineData("app web", "unable to parse requirement: found 'web', expected: in, notin, =, ==, !=, gt, lt")]
    [InlineData("app=web tier", "found 'tier', expected: ',' or 'end of string'")]
    [InlineData("app=web,", "found '', expected: identifier after ','")]
    [InlineData("!app=web", "found '=', expected: ',' or 'end of string'")]
    [InlineData("=web", "found '=', expected: !, identifier, or 'end of string'")]
    [InlineData("app in (a b)", "unable to parse requirement: found 'b', expected: ',' or ')'")]
    [InlineData("replicas>x", "unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer")]
    public void A_malformed_selector_fails_with_upstreams_message(string selector, string message) =>
        Assert.Equal(message, Assert.Throws<FormatException>(() => LabelSelector.Parse(selector)).Message);

    [Fact]
    public void A_blank_selector_is_empty_and_selects_everything()
    {
        Assert.True(LabelSelector.Parse(null).IsEmpty);
        Assert.False(LabelSelector.Parse("app").IsEmpty);
        Assert.True(LabelSelector.Everything.Matches(null));
    }

    [Fact]
    public void A_metav1_selector_ands_its_match_labels_and_expressions()
    {
        var selector = new V1LabelSelector
        {
            MatchLabels = new Dictionary<string, string> { ["app"] = "web" },
            MatchExpressions =
            [
                new V1LabelSelectorRequirement { Key = "tier", OperatorProperty = "In", Values = ["frontend", "edge"] },
                new V1LabelSelectorRequirement { Key = "canary", OperatorProperty = "DoesNotExist" },
            ],
        };

        Assert.True(LabelSelector.Matches(selector, Labels));
        Assert.False(LabelSelector.Matches(selector, new Dictionary<string, string>(Labels) { ["canary"] = "yes" }));
        Assert.False(LabelSelector.Matches(selector, new Dictionary<string, string>(Labels) { ["tier"] = "backend" }));
        Assert.False(LabelSelector.Matches(selector, null));
    }

    [Fact]
    public void A_metav1_selector_with_an_unknown_operator_selects_nothing()
    {
        var selector = new V1LabelSelector { MatchExpressions = [new V1LabelSelectorRequirement { Key = "app", OperatorProperty = "Gt", Values = ["1"] }] };

        Assert.False(LabelSelector.Matches(selector, Labels));
    }

    [Fact]
    public void A_null_metav1_selector_selects_nothing_and_an_empty_one_everything_unless_read_as_a_workloads()
    {
        var empty = new V1LabelSelector();

        Assert.False(LabelSelector.Matches(null, Labels));
        Assert.True(LabelSelector.Matches(empty, Labels));
        Assert.False(LabelSelector.MatchesNonEmpty(empty, Labels));
        Assert.False(LabelSelector.MatchesNonEmpty((V1LabelSelector?)null, Labels));
        Assert.True(LabelSelector.MatchesNonEmpty(new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } }, Labels));
    }

    [Fact]
    public void A_service_selector_needs_every_pair_and_an_empty_one_selects_nothing()
    {
        Assert.True(LabelSelector.MatchesNonEmpty(new Dictionary<string, string> { ["app"] = "web", ["tier"] = "frontend" }, Labels));
        Assert.False(LabelSelector.MatchesNonEmpty(new Dictionary<string, string> { ["app"] = "web", ["tier"] = "backend" }, Labels));
        Assert.False(LabelSelector.MatchesNonEmpty(new Dictionary<string, string>(), Labels));
        Assert.False(LabelSelector.MatchesNonEmpty((IDictionary<string, string>?)null, Labels));
    }

    [Theory]
    [InlineData("Gt", "replicas", "2", true)]
    [InlineData("Lt", "replicas", "2", false)]
    [InlineData("Gt", "app", "2", false)]
    [InlineData("Gt", "replicas", "two", false)]
    [InlineData("In", "tier", "frontend", true)]
    [InlineData("Exists", "tier", null, true)]
    [InlineData("Near", "tier", "frontend", false)]
    public void A_selector_term_requirement_matches_with_the_six_operators_of_node_selectors(string op, string key, string? value, bool expected) =>
        Assert.Equal(expected, LabelSelector.RequirementMatches(op, key, value is null ? null : [value], Labels));

    [Fact]
    public void A_label_set_needs_every_pair_and_an_empty_or_absent_one_selects_everything()
    {
        Assert.True(LabelSelector.MatchesSet(new Dictionary<string, string> { ["app"] = "web" }, Labels));
        Assert.False(LabelSelector.MatchesSet(new Dictionary<string, string> { ["app"] = "db" }, Labels));
        Assert.True(LabelSelector.MatchesSet(new Dictionary<string, string>(), Labels));
        Assert.True(LabelSelector.MatchesSet(null, null));
    }
}
