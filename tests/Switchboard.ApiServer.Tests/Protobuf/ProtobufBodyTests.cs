using System.Text;
using System.Text.Json.Nodes;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Protobuf;

namespace Switchboard.ApiServer.Tests.Protobuf;

/// <summary>Decoding the protobuf bodies kubectl 1.32.4 really sent (Captured/README.md says which command sent which).</summary>
public sealed class ProtobufBodyTests
{
    [Theory]
    [InlineData("namespace", """{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"pbtest"}}""")]
    [InlineData("service-clusterip", """
        {"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"critical-app","labels":{"app":"web"}},
         "spec":{"type":"ClusterIP","selector":{"app":"web"},"ports":[
           {"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080},{"name":"443","protocol":"TCP","port":443,"targetPort":443}]}}
        """)]
    [InlineData("service-nodeport", """
        {"apiVersion":"v1","kind":"Service","metadata":{"name":"np","labels":{"app":"np"}},
         "spec":{"type":"NodePort","selector":{"app":"np"},"ports":[{"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080,"nodePort":30080}]}}
        """)]
    [InlineData("deployment", """
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"critical-app","labels":{"app":"web"}},
         "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
           "spec":{"containers":[{"name":"nginx","image":"nginx:1.27","ports":[{"containerPort":8080}]}]}}}}
        """)]
    [InlineData("configmap", """
        {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},
         "data":{"greeting.txt":"hello\n","mode":"fast"},"binaryData":{"blob.bin":"AAH/Ymlu"}}
        """)]
    public void Kubectl_bodies_decode_to_the_json_kubectl_would_have_sent(string capture, string expected)
    {
        var json = ProtobufBody.Decode(Captured(capture));

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), json), json.ToJsonString());
    }

    [Fact]
    public void A_pointer_field_keeps_its_zero_value_and_a_plain_one_drops_it()
    {
        // Deployment{spec{replicas: 0 (a *int32), minReadySeconds: 0 (an int32)}}
        byte[] spec = [0x08, 0x00, 0x28, 0x00];
        var json = ProtobufBody.Decode(Body("apps/v1", "Deployment", Field(2, spec)));

        Assert.Equal("""{"replicas":0}""", json["spec"]!.ToJsonString());
    }

    [Fact]
    public void A_field_the_server_does_not_know_is_refused_with_415_rather_than_dropped()
    {
        byte[] unknown = Field(15, Encoding.UTF8.GetBytes("surprise"));

        var error = Assert.Throws<ApiException>(() => ProtobufBody.Decode(Body("v1", "ConfigMap", unknown)));

        Assert.Equal(415, error.Code);
        Assert.Contains("field 15 of ConfigMap", error.Status.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_kind_without_a_schema_is_refused_with_415()
    {
        var error = Assert.Throws<ApiException>(() => ProtobufBody.Decode(Body("v1", "PersistentVolumeClaim", [])));

        Assert.Equal(415, error.Code);
    }

    [Fact]
    public void A_truncated_body_is_a_400()
    {
        byte[] body = Captured("deployment");

        var error = Assert.Throws<ApiException>(() => ProtobufBody.Decode(body[..^20]));

        Assert.Equal(400, error.Code);
    }

    [Fact]
    public void Every_type_the_schema_names_is_a_scalar_or_a_message_it_describes()
    {
        string[] scalars = ["string", "bytes", "int", "bool", "IntOrString", "Quantity", "ignore"];
        var types = ProtobufSchema.Messages.Values.SelectMany(m => m.Values).Select(f => f.Type.StartsWith("map<", StringComparison.Ordinal) ? f.Type[4..^1] : f.Type);

        Assert.All(types, t => Assert.True(scalars.Contains(t) || ProtobufSchema.Messages.ContainsKey(t), $"unknown type {t}"));
        Assert.All(ProtobufSchema.Kinds, k => Assert.True(ProtobufSchema.Messages.ContainsKey(k), k));
    }

    private static byte[] Captured(string name) =>
        Convert.FromHexString(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Protobuf", "Captured", name + ".hex")).Trim());

    private static byte[] Body(string apiVersion, string kind, byte[] raw)
    {
        byte[] typeMeta = [.. Field(1, Encoding.UTF8.GetBytes(apiVersion)), .. Field(2, Encoding.UTF8.GetBytes(kind))];
        return [(byte)'k', (byte)'8', (byte)'s', 0, .. Field(1, typeMeta), .. Field(2, raw)];
    }

    /// <summary>A length-delimited field (bodies here stay under 128 bytes, so the length is one byte).</summary>
    private static byte[] Field(int number, byte[] value) => [(byte)((number << 3) | 2), (byte)value.Length, .. value];
}
