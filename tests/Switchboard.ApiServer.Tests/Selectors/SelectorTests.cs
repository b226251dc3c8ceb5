using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Selectors;

namespace Switchboard.ApiServer.Tests.Selectors;

public sealed class SelectorTests
{
    [Fact]
    public void A_malformed_labelSelector_parameter_is_a_bad_request_with_the_parsers_message()
    {
        var e = Assert.Throws<ApiException>(() => LabelSelectorParameter.Parse("app in web"));

        Assert.Equal(400, e.Code);
        Assert.Equal("unable to parse requirement: found 'web' expected: '('", e.Status.Message);
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
