using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Switchboard.ApiServer.Discovery;
using Switchboard.ApiServer.Registry;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.OpenApi;

/// <summary>
/// The OpenAPI documents of the served kinds, as kube-apiserver publishes them: /openapi/v3 (an index of group
/// versions, each with the hash of its document) and one v3 document per group version, and /openapi/v2 (all of it).
/// Every served resource is there: the registry's kinds with their subresources (status, scale, binding, eviction,
/// ephemeralcontainers, finalize, token) and the resources served by handlers of their own (the access reviews, the
/// resource metrics). Each kind's paths carry its x-kubernetes-group-version-kind (how <c>kubectl explain</c> finds the schema) and a
/// PATCH with the fieldValidation parameter (how kubectl 1.32 learns the server validates fields, so it sends
/// fieldValidation=Strict instead of validating itself). Schemas come from <see cref="ModelSchemas"/>. The documents
/// never change while the server runs: each is rendered once, on first request, and served as bytes.
/// </summary>
internal sealed class OpenApiDocuments
{
    private static readonly string[] PatchTypes = ["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"];

    /// <summary>kube-openapi's operation id stem of each verb (readCoreV1NamespacedPod).</summary>
    private static readonly Dictionary<string, string> Ids = new()
    {
        ["get"] = "read", ["list"] = "list", ["create"] = "create", ["update"] = "replace", ["patch"] = "patch", ["delete"] = "delete", ["deletecollection"] = "deleteCollection",
    };

    /// <summary>The x-kubernetes-action of each verb.</summary>
    private static readonly Dictionary<string, string> Actions = new()
    {
        ["get"] = "get", ["list"] = "list", ["create"] = "post", ["update"] = "put", ["patch"] = "patch", ["delete"] = "delete", ["deletecollection"] = "deletecollection",
    };

    /// <summary>What the legacy "bindings" collection of a kind with /binding answers with.</summary>
    private static readonly PublishedKind Binding = PublishedKind.Of(Subresource.Binding);

    private readonly IReadOnlyList<ResourceKind> _kinds;
    private readonly IReadOnlyList<ServedGroup> _servedElsewhere;
    private readonly Lazy<Dictionary<string, Rendered>> _v3;
    private readonly Lazy<Rendered> _v2;
    private readonly Lazy<Rendered> _v2Protobuf;

    /// <param name="kinds">The kinds of the registry.</param>
    /// <param name="servedElsewhere">Group versions with handlers of their own (the access reviews, metrics.k8s.io).</param>
    public OpenApiDocuments(IReadOnlyList<ResourceKind> kinds, IReadOnlyList<ServedGroup> servedElsewhere)
    {
        _kinds = kinds;
        _servedElsewhere = servedElsewhere;
        _v3 = new Lazy<Dictionary<string, Rendered>>(RenderV3);
        _v2 = new Lazy<Rendered>(() => Render(V2()));
        _v2Protobuf = new Lazy<Rendered>(() => Hashed(GnosticV2.Encode(V2())));
    }

    /// <summary>A rendered document: its bytes (JSON, or protobuf) and the upper-case hex SHA-512 kube-openapi uses as hash and ETag.</summary>
    public sealed record Rendered(byte[] Body, string Hash);

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

    /// <summary>The same v2 document in gnostic's protobuf encoding (<see cref="GnosticV2"/>).</summary>
    public Rendered V2Protobuf => _v2Protobuf.Value;

    private static Rendered Render(JsonObject document) => Hashed(ModelJson.NodeToUtf8Bytes(document));

    private static Rendered Hashed(byte[] body) => new(body, Convert.ToHexString(SHA512.HashData(body)));

    private Dictionary<string, Rendered> RenderV3()
    {
        var schemas = new ModelSchemas(Published(), v3: true);
        var sections = new Dictionary<string, Section>(StringComparer.Ordinal);
        AddPaths(path => sections.TryGetValue(path, out var section) ? section : sections[path] = new Section(), schemas, v3: true);
        var documents = new Dictionary<string, Rendered>(StringComparer.Ordinal);
        foreach (var (path, section) in sections)
        {
            documents[path] = Render(new JsonObject
            {
                ["openapi"] = "3.0.0",
                ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = VersionText },
                ["paths"] = section.Paths,
                ["components"] = new JsonObject { ["schemas"] = schemas.Definitions(section.Roots) },
            });
        }

        return documents;
    }

    private JsonObject V2()
    {
        var schemas = new ModelSchemas(Published(), v3: false);
        var all = new Section();
        AddPaths(_ => all, schemas, v3: false);
        return new JsonObject
        {
            ["swagger"] = "2.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = VersionText },
            ["paths"] = all.Paths,
            ["definitions"] = schemas.Definitions(all.Roots),
        };
    }

    private const string VersionText = Http.VersionInfo.GitVersion;

    /// <summary>Every kind a path answers with, in catalog order (which names the shared types): the registry's, their subresources', the rest.</summary>
    private List<PublishedKind> Published()
    {
        var kinds = _kinds.Select(PublishedKind.Of).ToList();
        kinds.AddRange(_kinds.SelectMany(Subresource.Of).Select(PublishedKind.Of));
        kinds.AddRange(_servedElsewhere.SelectMany(g => g.Resources.Select(r => new PublishedKind(g.Group, g.Version, r.Kind, r.Model))));
        return [.. kinds.DistinctBy(k => k.Model)];
    }

    private void AddPaths(Func<string, Section> sectionOf, ModelSchemas schemas, bool v3)
    {
        foreach (var kind in _kinds)
        {
            var section = sectionOf(PathOf(kind.Group, kind.Version));
            var self = PublishedKind.Of(kind);
            string item = AddResource(section, kind.Group, kind.Version, kind.Plural, kind.Namespaced, self, DiscoveryDocuments.ReadWriteVerbs, schemas, v3);
            foreach (var sub in Subresource.Of(kind))
            {
                AddSubresource(section, item, sub.Name, kind.Kind, kind.Namespaced, OperationPrefix(kind.Group, kind.Version), PublishedKind.Of(sub), sub.Verbs, schemas, v3);
            }

            if (kind.HasBinding)
            {
                AddResource(section, kind.Group, kind.Version, ResourceKind.Bindings, kind.Namespaced, Binding, ["create"], schemas, v3);
            }
        }

        foreach (var group in _servedElsewhere)
        {
            var section = sectionOf(PathOf(group.Group, group.Version));
            foreach (var resource in group.Resources)
            {
                AddResource(section, group.Group, group.Version, resource.Name, resource.Namespaced, new PublishedKind(group.Group, group.Version, resource.Kind, resource.Model), resource.Verbs, schemas, v3);
            }
        }
    }

    /// <summary>The collection and item paths of a resource, with an operation per verb; returns the item path.</summary>
    private static string AddResource(Section section, string group, string version, string plural, bool namespaced, PublishedKind target, IReadOnlyCollection<string> verbs, ModelSchemas schemas, bool v3)
    {
        string prefix = group.Length == 0 ? "/api/" + version : $"/apis/{group}/{version}";
        string collection = namespaced ? $"{prefix}/namespaces/{{namespace}}/{plural}" : $"{prefix}/{plural}";
        string item = collection + "/{name}";
        string id = OperationPrefix(group, version) + (namespaced ? "Namespaced" : "") + target.Kind;
        var body = schemas.Ref(target.Model);
        section.Roots.Add(target.Model);

        JsonObject Operation(string verb, string description) => OperationOf(verb, Ids[verb] + id, description, target, body, v3);

        var collectionItem = new JsonObject();
        Add(collectionItem, verbs, "list", "get", () => Operation("list", $"list or watch objects of kind {target.Kind}"));
        Add(collectionItem, verbs, "create", "post", () => Operation("create", $"create a {target.Kind}"));
        Add(collectionItem, verbs, "deletecollection", "delete", () => Operation("deletecollection", $"delete collection of {target.Kind}"));
        AddPath(section, collection, collectionItem);

        var itemPath = new JsonObject();
        Add(itemPath, verbs, "get", "get", () => Operation("get", $"read the specified {target.Kind}"));
        Add(itemPath, verbs, "update", "put", () => Operation("update", $"replace the specified {target.Kind}"));
        Add(itemPath, verbs, "patch", "patch", () => Operation("patch", $"partially update the specified {target.Kind}"));
        Add(itemPath, verbs, "delete", "delete", () => Operation("delete", $"delete a {target.Kind}"));
        AddPath(section, item, itemPath);

        if (namespaced && verbs.Contains("list"))
        {
            string allId = Ids["list"] + OperationPrefix(group, version) + target.Kind + "ForAllNamespaces";
            AddPath(section, $"{prefix}/{plural}", new JsonObject { ["get"] = OperationOf("list", allId, $"list or watch objects of kind {target.Kind}", target, body, v3) });
        }

        return item;
    }

    /// <summary>The path of a subresource of the object at <paramref name="item"/>, with an operation per verb.</summary>
    private static void AddSubresource(Section section, string item, string name, string owner, bool namespaced, string prefix, PublishedKind target, IReadOnlyCollection<string> verbs, ModelSchemas schemas, bool v3)
    {
        string id = prefix + (namespaced ? "Namespaced" : "") + owner + Capitalised(name);
        var body = schemas.Ref(target.Model);
        section.Roots.Add(target.Model);

        JsonObject Operation(string verb, string description) => OperationOf(verb, Ids[verb] + id, description, target, body, v3);

        var path = new JsonObject();
        Add(path, verbs, "get", "get", () => Operation("get", $"read {name} of the specified {owner}"));
        Add(path, verbs, "create", "post", () => Operation("create", $"create {name} of a {owner}"));
        Add(path, verbs, "update", "put", () => Operation("update", $"replace {name} of the specified {owner}"));
        Add(path, verbs, "patch", "patch", () => Operation("patch", $"partially update {name} of the specified {owner}"));
        AddPath(section, $"{item}/{name}", path);
    }

    private static void Add(JsonObject path, IReadOnlyCollection<string> verbs, string verb, string method, Func<JsonObject> operation)
    {
        if (verbs.Contains(verb))
        {
            path[method] = operation();
        }
    }

    private static void AddPath(Section section, string path, JsonObject item)
    {
        if (item.Count > 0)
        {
            section.Paths[path] = item;
        }
    }

    private static JsonObject OperationOf(string verb, string operationId, string description, PublishedKind target, JsonObject body, bool v3)
    {
        bool patch = verb == "patch";
        bool hasBody = verb is "create" or "update" or "patch";
        var parameters = new JsonArray();
        if (hasBody)
        {
            parameters.Add((JsonNode)Query("dryRun", "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed", v3));
            parameters.Add((JsonNode)Query("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint. This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).", v3));
            parameters.Add((JsonNode)Query("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict", v3));
        }

        if (patch)
        {
            parameters.Add((JsonNode)Query("force", "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.", v3, "boolean"));
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
                parameters.Add((JsonNode)new JsonObject { ["name"] = "body", ["in"] = "body", ["required"] = true, ["schema"] = patch ? new JsonObject { ["type"] = "object" } : body.DeepClone() });
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
        operation["x-kubernetes-action"] = Actions[verb];
        operation["x-kubernetes-group-version-kind"] = new JsonObject { ["group"] = target.Group, ["kind"] = target.Kind, ["version"] = target.Version };
        return operation;
    }

    /// <summary>The paths of one document (a group version's in v3, all of them in v2) and the models they answer with.</summary>
    private sealed class Section
    {
        public JsonObject Paths { get; } = [];

        public HashSet<Type> Roots { get; } = [];
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
