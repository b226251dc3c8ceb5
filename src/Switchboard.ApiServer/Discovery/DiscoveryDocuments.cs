using System.Text.Json.Nodes;
using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.Discovery;

/// <summary>
/// The discovery documents: the legacy ones (/api, /apis, /api/v1, /apis/GROUP and /apis/GROUP/VERSION) and the
/// aggregated APIGroupDiscoveryList kubectl 1.32 asks /api and /apis for first (one request instead of one per group
/// version). Both are made from the catalog's declarations: names, scope, short names, categories, subresources.
/// </summary>
internal sealed class DiscoveryDocuments
{
    private static readonly string[] ReadWriteVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
    private static readonly string[] SubresourceVerbs = ["get", "patch", "update"];

    private readonly IReadOnlyList<ResourceKind> _kinds;
    private readonly IReadOnlyList<(string Group, string Version)> _servedElsewhere;

    /// <param name="kinds">The kinds of the registry.</param>
    /// <param name="servedElsewhere">Group versions with handlers of their own (metrics.k8s.io), listed among the groups.</param>
    public DiscoveryDocuments(IReadOnlyList<ResourceKind> kinds, IReadOnlyList<(string Group, string Version)> servedElsewhere)
    {
        _kinds = kinds;
        _servedElsewhere = servedElsewhere;
    }

    public IEnumerable<string> Groups => _kinds.Select(k => k.Group).Where(g => g.Length > 0).Concat(_servedElsewhere.Select(g => g.Group)).Distinct();

    public JsonObject Versions(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    public JsonObject GroupList() => new()
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray([.. Groups.Select(g => (JsonNode)Group(g))]),
    };

    public JsonObject Group(string group)
    {
        string version = _kinds.FirstOrDefault(k => k.Group == group)?.Version ?? _servedElsewhere.First(g => g.Group == group).Version;
        var groupVersion = new JsonObject { ["groupVersion"] = group + "/" + version, ["version"] = version };
        return new JsonObject
        {
            ["kind"] = "APIGroup",
            ["apiVersion"] = "v1",
            ["name"] = group,
            ["versions"] = new JsonArray(groupVersion.DeepClone()),
            ["preferredVersion"] = groupVersion,
        };
    }

    /// <summary>
    /// The aggregated discovery of the legacy group (<paramref name="legacy"/>: /api, one item named "") or of the named
    /// groups (/apis), in apidiscovery.k8s.io <paramref name="apiVersion"/> (v2 or v2beta1, the same shape).
    /// </summary>
    public JsonObject Aggregated(bool legacy, string apiVersion)
    {
        var items = new JsonArray();
        foreach (var group in _kinds.Where(k => (k.Group.Length == 0) == legacy).GroupBy(k => k.Group))
        {
            var versions = new JsonArray();
            foreach (var version in group.GroupBy(k => k.Version))
            {
                versions.Add(new JsonObject
                {
                    ["version"] = version.Key,
                    ["resources"] = new JsonArray([.. version.SelectMany(AggregatedResources)]),
                    ["freshness"] = "Current",
                });
            }

            items.Add(new JsonObject { ["metadata"] = new JsonObject { ["name"] = group.Key, ["creationTimestamp"] = null }, ["versions"] = versions });
        }

        return new JsonObject
        {
            ["kind"] = "APIGroupDiscoveryList",
            ["apiVersion"] = "apidiscovery.k8s.io/" + apiVersion,
            ["metadata"] = new JsonObject(),
            ["items"] = items,
        };
    }

    private static IEnumerable<JsonNode> AggregatedResources(ResourceKind kind)
    {
        yield return AggregatedResource(kind);
        if (kind.HasBinding)
        {
            yield return new JsonObject
            {
                ["resource"] = ResourceKind.Bindings,
                ["responseKind"] = ResponseKind("", "v1", "Binding"),
                ["scope"] = kind.Namespaced ? "Namespaced" : "Cluster",
                ["singularResource"] = "binding",
                ["verbs"] = new JsonArray("create"),
            };
        }
    }

    private static JsonObject AggregatedResource(ResourceKind kind)
    {
        var entry = new JsonObject
        {
            ["resource"] = kind.Plural,
            ["responseKind"] = ResponseKind(kind.Group, kind.Version, kind.Kind),
            ["scope"] = kind.Namespaced ? "Namespaced" : "Cluster",
            ["singularResource"] = kind.Singular,
            ["verbs"] = new JsonArray([.. ReadWriteVerbs.Select(v => (JsonNode)v)]),
        };
        if (kind.ShortNames.Count > 0)
        {
            entry["shortNames"] = new JsonArray([.. kind.ShortNames.Select(s => (JsonNode)s)]);
        }

        if (kind.Categories.Count > 0)
        {
            entry["categories"] = new JsonArray([.. kind.Categories.Select(c => (JsonNode)c)]);
        }

        var subresources = new JsonArray();
        JsonObject Sub(string name, JsonObject responseKind, params string[] verbs) =>
            new() { ["subresource"] = name, ["responseKind"] = responseKind, ["verbs"] = new JsonArray([.. verbs.Select(v => (JsonNode)v)]) };
        if (kind.HasBinding)
        {
            subresources.Add(Sub("binding", ResponseKind("", "v1", "Binding"), "create"));
        }

        if (kind.HasStatus)
        {
            subresources.Add(Sub("status", ResponseKind(kind.Group, kind.Version, kind.Kind), SubresourceVerbs));
        }

        if (kind.HasScale)
        {
            subresources.Add(Sub("scale", ResponseKind("autoscaling", "v1", "Scale"), SubresourceVerbs));
        }

        if (kind.Kind == "Namespace")
        {
            subresources.Add(Sub("finalize", ResponseKind(kind.Group, kind.Version, kind.Kind), "update"));
        }

        if (subresources.Count > 0)
        {
            entry["subresources"] = subresources;
        }

        return entry;
    }

    private static JsonObject ResponseKind(string group, string version, string kind) => new() { ["group"] = group, ["version"] = version, ["kind"] = kind };

    public bool HasGroupVersion(string group, string version) => _kinds.Any(k => k.Group == group && k.Version == version);

    public JsonObject ResourceList(string group, string version)
    {
        var resources = new JsonArray();
        foreach (var kind in _kinds.Where(k => k.Group == group && k.Version == version))
        {
            var entry = new JsonObject
            {
                ["name"] = kind.Plural,
                ["singularName"] = kind.Singular,
                ["namespaced"] = kind.Namespaced,
                ["kind"] = kind.Kind,
                ["verbs"] = new JsonArray([.. ReadWriteVerbs.Select(v => (JsonNode)v)]),
            };
            if (kind.ShortNames.Count > 0)
            {
                entry["shortNames"] = new JsonArray([.. kind.ShortNames.Select(s => (JsonNode)s)]);
            }

            if (kind.Categories.Count > 0)
            {
                entry["categories"] = new JsonArray([.. kind.Categories.Select(c => (JsonNode)c)]);
            }

            resources.Add(entry);
            if (kind.HasBinding)
            {
                var binding = Subresource(kind, "binding", "Binding", "", kind.GroupVersion);
                binding["verbs"] = new JsonArray("create");
                resources.Add(binding);
                resources.Add(new JsonObject
                {
                    ["name"] = ResourceKind.Bindings,
                    ["singularName"] = "binding",
                    ["namespaced"] = kind.Namespaced,
                    ["kind"] = "Binding",
                    ["verbs"] = new JsonArray("create"),
                });
            }

            if (kind.HasStatus)
            {
                resources.Add(Subresource(kind, "status", kind.Kind, "", kind.GroupVersion));
            }

            if (kind.HasScale)
            {
                resources.Add(Subresource(kind, "scale", "Scale", "autoscaling", "v1"));
            }

            if (kind.Kind == "Pod")
            {
                var eviction = Subresource(kind, "eviction", "Eviction", "policy", "v1");
                eviction["verbs"] = new JsonArray("create");
                resources.Add(eviction);
                resources.Add(Subresource(kind, "ephemeralcontainers", kind.Kind, "", kind.GroupVersion));
            }

            if (kind.Kind == "Namespace")
            {
                var finalize = Subresource(kind, "finalize", kind.Kind, "", kind.GroupVersion);
                finalize["verbs"] = new JsonArray("update");
                resources.Add(finalize);
            }
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : group + "/" + version,
            ["resources"] = resources,
        };
    }

    private static JsonObject Subresource(ResourceKind kind, string name, string subKind, string group, string version)
    {
        var entry = new JsonObject
        {
            ["name"] = kind.Plural + "/" + name,
            ["singularName"] = "",
            ["namespaced"] = kind.Namespaced,
            ["kind"] = subKind,
            ["verbs"] = new JsonArray([.. SubresourceVerbs.Select(v => (JsonNode)v)]),
        };
        if (group.Length > 0)
        {
            entry["group"] = group;
            entry["version"] = version;
        }

        return entry;
    }
}
