using System.Text.Json.Nodes;
using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.OpenApi;

/// <summary>
/// The OpenAPI documents kubectl fetches before create/apply. kubectl 1.32 asks /openapi/v3 whether the server does
/// field validation for a kind (a schema carrying x-kubernetes-group-version-kind) and, if so, leaves validation to
/// the server (?fieldValidation=Strict, see UnknownFields). /openapi/v2 is read as gnostic protobuf; an empty
/// body is a valid empty document, which makes kubectl skip client-side schema checks.
/// </summary>
internal sealed class OpenApiDocuments
{
    private readonly IReadOnlyList<ResourceKind> _kinds;

    public OpenApiDocuments(IReadOnlyList<ResourceKind> kinds) => _kinds = kinds;

    public static string PathOf(string group, string version) => group.Length == 0 ? "api/" + version : $"apis/{group}/{version}";

    public JsonObject Root()
    {
        var paths = new JsonObject();
        foreach (var (group, version) in _kinds.Select(k => (k.Group, k.Version)).Distinct())
        {
            string path = PathOf(group, version);
            paths[path] = new JsonObject { ["serverRelativeURL"] = "/openapi/v3/" + path };
        }

        return new JsonObject { ["paths"] = paths };
    }

    /// <summary>The document of one group version, or null if there is none.</summary>
    public JsonObject? GroupVersion(string path)
    {
        var kinds = _kinds.Where(k => PathOf(k.Group, k.Version) == path).ToList();
        if (kinds.Count == 0)
        {
            return null;
        }

        var schemas = new JsonObject();
        foreach (var kind in kinds)
        {
            string package = kind.Group.Length == 0 ? "core" : kind.Group.Split('.')[0];
            schemas[$"io.k8s.api.{package}.{kind.Version}.{kind.Kind}"] = new JsonObject
            {
                ["type"] = "object",
                ["x-kubernetes-group-version-kind"] = new JsonArray(new JsonObject { ["group"] = kind.Group, ["kind"] = kind.Kind, ["version"] = kind.Version }),
            };
        }

        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = "v1.32.0" },
            ["paths"] = new JsonObject(),
            ["components"] = new JsonObject { ["schemas"] = schemas },
        };
    }
}
