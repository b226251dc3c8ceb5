using Switchboard.Kube.Serialization;
using YamlDotNet.Core;

namespace Switchboard.Kube.Tests.Serialization;

/// <summary>A YAML body becomes the JSON sigs.k8s.io/yaml makes of it, built from the parser's events.</summary>
public sealed class YamlJsonTests
{
    [Fact]
    public void Plain_scalars_that_read_as_null_booleans_or_numbers_are_those_and_quoted_ones_stay_strings()
    {
        var node = YamlJson.Parse("""
            a: 3
            b: -12
            c: 1.5
            d: true
            e: False
            f: ~
            g:
            h: "3"
            i: 'true'
            j: 0x1f
            k: 1e3
            l: 1.2.3
            m: .inf
            n: !!str 42
            o: 12345678901234
            p: |
              text
            """);

        Assert.Equal(
            """{"a":3,"b":-12,"c":1.5,"d":true,"e":false,"f":null,"g":null,"h":"3","i":"true","j":31,"k":1000,"l":"1.2.3","m":".inf","n":"42","o":12345678901234,"p":"text"}""",
            node!.ToJsonString());
    }

    [Fact]
    public void Nested_mappings_and_sequences_keep_their_order_and_an_alias_is_a_copy_of_its_anchor()
    {
        var node = YamlJson.Parse("""
            apiVersion: v1
            kind: List
            items:
            - &base {kind: ConfigMap, data: {x: "1"}}
            - *base
            - [1, [2, 3]]
            """);

        Assert.Equal(
            """{"apiVersion":"v1","kind":"List","items":[{"kind":"ConfigMap","data":{"x":"1"}},{"kind":"ConfigMap","data":{"x":"1"}},[1,[2,3]]]}""",
            node!.ToJsonString());
        var items = node["items"]!.AsArray();
        Assert.NotSame(items[0], items[1]);
    }

    [Fact]
    public void A_scalar_document_is_that_value_and_an_empty_one_is_null()
    {
        Assert.Equal("\"hello\"", YamlJson.Parse("hello")!.ToJsonString());
        Assert.Null(YamlJson.Parse(""));
        Assert.Null(YamlJson.Parse("# only a comment\n"));
    }

    [Theory]
    [InlineData("a: 1\na: 2\n", "mapping key \"a\" already defined")]
    [InlineData("? [a, b]\n: 1\n", "a mapping key must be a scalar")]
    [InlineData("a: *nowhere\n", "nowhere")]
    [InlineData("a: [1, 2\n", "")]
    public void Yaml_json_cannot_hold_is_a_yaml_exception(string yaml, string message)
    {
        var e = Assert.ThrowsAny<YamlException>(() => YamlJson.Parse(yaml));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
