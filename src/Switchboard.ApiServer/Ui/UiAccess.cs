using Switchboard.ApiServer.Authentication;
using Switchboard.ApiServer.Authorization;

namespace Switchboard.ApiServer.Ui;

/// <summary>
/// What one page's identity may see of what the hub watches, by the API server's own authorizer: each kind of object
/// where it may list and watch that resource (a <c>view</c> binding in one namespace: that namespace's services,
/// endpoint slices and pods, and no nodes or other namespaces), and the trace (connections, DNS queries, the service
/// map) and rules where it may <c>get nodes/proxy</c>, the permission upstream asks to read a node's own endpoints
/// through the API server, which is where the trace comes from. Decisions are taken when first needed and kept for
/// the stream's life, as kube-apiserver authorizes a watch when it starts; a stream lives at most
/// <see cref="UiHub.MaxStream"/>, so a changed binding takes effect at the page's next stream.
/// </summary>
internal sealed class UiAccess(UserInfo user, RequestAuthorizer authorizer)
{
    private readonly Dictionary<(string Kind, string Namespace), bool> _decisions = [];
    private bool? _trace;

    public UserInfo User => user;

    /// <summary>Whether <see cref="User"/> may list and watch the objects of the hub's <paramref name="kind"/> in <paramref name="ns"/> ("" for cluster-scoped kinds).</summary>
    public bool MayList(string kind, string ns)
    {
        lock (_decisions)
        {
            if (!_decisions.TryGetValue((kind, ns), out bool allowed))
            {
                (string group, string resource) = Resource(kind);
                string? scope = ns.Length == 0 ? null : ns;
                allowed = Allows("list", group, resource, null, scope) && Allows("watch", group, resource, null, scope);
                _decisions[(kind, ns)] = allowed;
            }

            return allowed;
        }
    }

    /// <summary>Whether <see cref="User"/> may read the trace and the rules: <c>get</c> on <c>nodes/proxy</c>.</summary>
    public bool MayTrace
    {
        get
        {
            lock (_decisions)
            {
                return _trace ??= Allows("get", "", "nodes", "proxy", null);
            }
        }
    }

    /// <summary>Whether the trace of the Service <paramref name="ns"/>/… may be shown: the trace, and that namespace's services.</summary>
    public bool MaySeeFlow(string ns) => MayTrace && MayList("service", ns);

    private bool Allows(string verb, string group, string resource, string? subresource, string? ns) =>
        authorizer.Authorize(RequestAttributes.ForResource(user, verb, group, resource, subresource, ns, null)).Allowed;

    private static (string Group, string Resource) Resource(string kind) => kind switch
    {
        "namespace" => ("", "namespaces"),
        "node" => ("", "nodes"),
        "service" => ("", "services"),
        "endpoints" => ("discovery.k8s.io", "endpointslices"),
        "pod" => ("", "pods"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a kind the web view shows"),
    };
}
