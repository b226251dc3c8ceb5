using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.OpenApi;

/// <summary>
/// The OpenAPI documents of the served kinds, as kube-apiserver publishes them: /openapi/v3 (an index of group
/// versions, each with the hash of its document) and one v3 document per group version, and /openapi/v2 (all of it).
/// Each kind's paths carry its x-kubernetes-group-version-kind (how <c>kubectl explain</c> finds the schema) and a
/// PATCH with the fieldValidation parameter (how kubectl 1.32 learns the server validates fields, so it sends
/// fieldValidation=Strict instead of validating itself). Schemas come from <see cref="ModelSchemas"/>. The documents
/// never change while the server runs: each is rendered once, on first request, and served as bytes.
/// </summary>
internal sealed class OpenApiDocuments
{
    private static readonly string[] PatchTypes = ["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"];

    private readonly IReadOnlyList<ResourceKind> _kinds;
    private readonly Lazy<Dictionary<string, Rendered>> _v3;
    private readonly Lazy<Rendered> _v2;

    public OpenApiDocuments(IReadOnlyList<ResourceKind> kinds)
    {
        _kinds = kinds;
        _v3 = new Lazy<Dictionary<string, Rendered>>(RenderV3);
        _v2 = new Lazy<Rendered>(() => Render(V2()));
    }

    /// <summary>A rendered document: its JSON and the upper-case hex SHA-512 kube-openapi uses as hash and ETag.</summary>
    public sealed record Rendered(byte[] Json, string Hash);

    public static string PathOf(string group, string version) => group.Length == 0 ? "api/" + version : $"apis/{group}/{version}";

    public JsonObject Root()
    {
        var paths = new JsonObject();
        foreach (var (path, document) in _v3.Value)
        {
            paths[path] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{path}?hash={document.Hash}" };
        }

        return new JsonObject { ["paths"] = paths };
    }

    /// <summary>The v3 document of one group version (<c>api/v1</c>, <c>apis/apps/v1</c>), or null if there is none.</summary>
    public Rendered? GroupVersion(string path) => _v3.Value.GetValueOrDefault(path);

    /// <summary>The v2 (swagger 2.0) document of every served kind.</summary>
    public Rendered V2Document => _v2.Value;

    private static Rendered Render(JsonObject document)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(document);
        return new Rendered(json, Convert.ToHexString(SHA512.HashData(json)));
    }

    private Dictionary<string, Rendered> RenderV3()
    {
        var schemas = new ModelSchemas(_kinds, v3: true);
        var documents = new Dictionary<string, Rendered>(StringComparer.Ordinal);
        foreach (var gv in _kinds.GroupBy(k => PathOf(k.Group, k.Version)))
        {
            var paths = new JsonObject();
            foreach (var kind in gv)
            {
                AddPaths(paths, kind, schemas, v3: true);
            }

            documents[gv.Key] = Render(new JsonObject
            {
                ["openapi"] = "3.0.0",
                ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = VersionText },
                ["paths"] = paths,
                ["components"] = new JsonObject { ["schemas"] = schemas.Definitions(gv.Select(k => k.ModelType)) },
            });
        }

        return documents;
    }

    private JsonObject V2()
    {
        var schemas = new ModelSchemas(_kinds, v3: false);
        var paths = new JsonObject();
        foreach (var kind in _kinds)
        {
            AddPaths(paths, kind, schemas, v3: false);
        }

        return new JsonObject
        {
            ["swagger"] = "2.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = VersionText },
            ["paths"] = paths,
            ["definitions"] = schemas.Definitions(_kinds.Select(k => k.ModelType)),
        };
    }

    private const string VersionText = Http.VersionInfo.GitVersion;

    private static void AddPaths(JsonObject paths, ResourceKind kind, ModelSchemas schemas, bool v3)
    {
        string prefix = kind.Group.Length == 0 ? "/api/" + kind.Version : $"/apis/{kind.Group}/{kind.Version}";
        string collection = kind.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{kind.Plural}" : $"{prefix}/{kind.Plural}";
        string item = collection + "/{name}";
        string scope = kind.Namespaced ? "Namespaced" : "";
        var gvk = new JsonObject { ["group"] = kind.Group, ["kind"] = kind.Kind, ["version"] = kind.Version };
        var body = schemas.Ref(kind.ModelType);

        JsonObject Operation(string action, string operationId, string description, bool query, bool patch, bool hasBody) =>
            OperationOf(action, operationId + kind.Kind, description, gvk, body, query, patch, hasBody, v3);

        string id = OperationPrefix(kind.Group, kind.Version) + scope;
        paths[collection] = new JsonObject
        {
            ["get"] = Operation("list", "list" + id, $"list or watch objects of kind {kind.Kind}", query: false, patch: false, hasBody: false),
            ["post"] = Operation("post", "create" + id, $"create a {kind.Kind}", query: true, patch: false, hasBody: true),
            ["delete"] = Operation("deletecollection", "deleteCollection" + id, $"delete collection of {kind.Kind}", query: false, patch: false, hasBody: false),
        };
        paths[item] = new JsonObject
        {
            ["get"] = Operation("get", "read" + id, $"read the specified {kind.Kind}", query: false, patch: false, hasBody: false),
            ["put"] = Operation("put", "replace" + id, $"replace the specified {kind.Kind}", query: true, patch: false, hasBody: true),
            ["patch"] = Operation("patch", "patch" + id, $"partially update the specified {kind.Kind}", query: true, patch: true, hasBody: true),
            ["delete"] = Operation("delete", "delete" + id, $"delete a {kind.Kind}", query: false, patch: false, hasBody: false),
        };
        if (kind.HasStatus)
        {
            paths[item + "/status"] = new JsonObject
            {
                ["get"] = Operation("get", "read" + id, $"read status of the specified {kind.Kind}", query: false, patch: false, hasBody: false),
                ["put"] = Operation("put", "replace" + id, $"replace status of the specified {kind.Kind}", query: true, patch: false, hasBody: true),
                ["patch"] = Operation("patch", "patch" + id, $"partially update status of the specified {kind.Kind}", query: true, patch: true, hasBody: true),
            };
        }

        if (kind.Namespaced)
        {
            paths[$"{prefix}/{kind.Plural}"] = new JsonObject
            {
                ["get"] = Operation("list", "list" + OperationPrefix(kind.Group, kind.Version), $"list or watch objects of kind {kind.Kind}", query: false, patch: false, hasBody: false),
            };
        }
    }

    private static JsonObject OperationOf(string action, string operationId, string description, JsonObject gvk, JsonObject body, bool query, bool patch, bool hasBody, bool v3)
    {
        var parameters = new JsonArray();
        if (query)
        {
            parameters.Add(Query("dryRun", "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed", v3));
            parameters.Add(Query("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint. This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).", v3));
            parameters.Add(Query("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict", v3));
        }

        if (patch)
        {
            parameters.Add(Query("force", "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.", v3, "boolean"));
        }

        var operation = new JsonObject
        {
            ["description"] = description,
            ["operationId"] = operationId,
            ["parameters"] = parameters,
        };
        string[] consumes = patch ? PatchTypes : ["*/*"];
        if (hasBody)
        {
            if (v3)
            {
                var content = new JsonObject();
                foreach (string type in consumes)
                {
                    content[type] = new JsonObject { ["schema"] = patch ? new JsonObject { ["type"] = "object" } : body.DeepClone() };
                }

                operation["requestBody"] = new JsonObject { ["content"] = content, ["required"] = true };
            }
            else
            {
                operation["consumes"] = new JsonArray([.. consumes.Select(c => (JsonNode)c)]);
                parameters.Add(new JsonObject { ["name"] = "body", ["in"] = "body", ["required"] = true, ["schema"] = patch ? new JsonObject { ["type"] = "object" } : body.DeepClone() });
            }
        }

        var ok = new JsonObject { ["description"] = "OK" };
        if (v3)
        {
            ok["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = body.DeepClone() } };
        }
        else
        {
            ok["schema"] = body.DeepClone();
        }

        operation["responses"] = new JsonObject { ["200"] = ok, ["401"] = new JsonObject { ["description"] = "Unauthorized" } };
        operation["x-kubernetes-action"] = action;
        operation["x-kubernetes-group-version-kind"] = gvk.DeepClone();
        return operation;
    }

    private static JsonObject Query(string name, string description, bool v3, string type = "string") => v3
        ? new JsonObject { ["name"] = name, ["in"] = "query", ["description"] = description, ["schema"] = new JsonObject { ["type"] = type, ["uniqueItems"] = true } }
        : new JsonObject { ["name"] = name, ["in"] = "query", ["description"] = description, ["type"] = type, ["uniqueItems"] = true };

    /// <summary>kube-openapi's operation id stem: readCoreV1…, listAppsV1…, createDiscoveryV1….</summary>
    private static string OperationPrefix(string group, string version)
    {
        string name = group.Length == 0 ? "core" : string.Concat(group.Replace(".k8s.io", "", StringComparison.Ordinal).Split('.').Select(Capitalised));
        return Capitalised(name) + Capitalised(version);
    }

    private static string Capitalised(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
