using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Selectors;

namespace Switchboard.ApiServer.Tests.Selectors;

public sealed class SelectorTests
{
    private static readonly Dictionary<string, string> Labels = new() { ["app"] = "web", ["tier"] = "frontend" };

    [Theory]
    [InlineData("app=web", true)]
    [InlineData("app==web", true)]
    [InlineData("app!=web", false)]
    [InlineData("app in (db, web)", true)]
    [InlineData("app notin (db,web)", false)]
    [InlineData("tier", true)]
    [InlineData("!tier", false)]
    [InlineData("!missing", true)]
    [InlineData("app=web,tier=backend", false)]
    [InlineData("app in (web),tier notin (backend)", true)]
    [InlineData("", true)]
    public void Label_selector_grammar(string selector, bool expected) =>
        Assert.Equal(expected, LabelSelector.Parse(selector).Matches(Labels));

    [Fact]
    public void Malformed_label_selector_is_a_bad_request()
    {
        var e = Assert.Throws<ApiException>(() => LabelSelector.Parse("app in web"));
        Assert.Equal(400, e.Code);
    }

    [Fact]
    public void Field_selector_terms_are_an_unordered_conjunction()
    {
        var fields = new Dictionary<string, string> { ["involvedObject.kind"] = "Service", ["involvedObject.name"] = "backend" };
        var selector = FieldSelector.Parse("involvedObject.name=backend,involvedObject.kind==Service");

        Assert.True(selector.Matches(f => fields.GetValueOrDefault(f)));
        Assert.False(FieldSelector.Parse("involvedObject.name!=backend").Matches(f => fields.GetValueOrDefault(f)));
        Assert.Equal(["involvedObject.name", "involvedObject.kind"], selector.Fields);
    }
}
