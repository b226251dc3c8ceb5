using System.Text.Json.Nodes;
using Switchboard.ApiServer.Registry;

namespace Switchboard.ApiServer.Discovery;

/// <summary>The legacy (unaggregated) discovery documents: /api, /apis, /api/v1, /apis/GROUP and /apis/GROUP/VERSION.</summary>
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
