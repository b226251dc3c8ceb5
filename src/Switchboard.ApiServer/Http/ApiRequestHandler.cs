using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Switchboard.ApiServer.Authentication;
using Switchboard.ApiServer.Authorization;
using Switchboard.ApiServer.Discovery;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Metrics;
using Switchboard.ApiServer.OpenApi;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Requests;
using Switchboard.ApiServer.Streaming;
using Switchboard.ApiServer.Ui;
using Switchboard.Kube.Hosting;
using Switchboard.Kube.Metrics;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// The one request entry point: health and version (open to anyone, as upstream's public-info-viewer role),
/// authentication (and impersonation), authorization of every other path and resource request as kube-apiserver's
/// RBAC, discovery, OpenAPI, <c>/metrics</c>, the service-account issuer's documents, the access reviews and dispatch
/// to the resource handlers, or to the node for the streaming subresources.
/// </summary>
internal sealed partial class ApiRequestHandler
{
    private readonly RequestSecurity _security;
    private readonly DiscoveryDocuments _discovery;
    private readonly OpenApiDocuments _openApi;
    private readonly Dictionary<(string Group, string Version, string Resource), IResourceHandler> _handlers;
    private readonly Readiness _readiness;
    private readonly ApiServerMetrics _metrics;
    private readonly NodeStreams _streams;
    private readonly ServiceProxy _services;
    private readonly EvictionHandler _evictions;
    private readonly MetricsApiHandler _resourceMetrics;
    private readonly UiHandler? _ui;
    private readonly ILogger _logger;

    public ApiRequestHandler(
        RequestSecurity security, IReadOnlyList<IResourceHandler> handlers, NodeStreams streams, ServiceProxy services, EvictionHandler evictions, MetricsApiHandler resourceMetrics,
        Readiness readiness, ApiServerMetrics metrics, ILogger logger, UiHandler? ui = null)
    {
        _ui = ui;
        _evictions = evictions;
        _resourceMetrics = resourceMetrics;
        _streams = streams;
        _services = services;
        _metrics = metrics;
        _readiness = readiness;
        _security = security;
        _handlers = handlers.ToDictionary(h => (h.Kind.Group, h.Kind.Version, h.Kind.Plural));
        foreach (var binder in handlers.Where(h => h.Kind.HasBinding))
        {
            _handlers.Add((binder.Kind.Group, binder.Kind.Version, ResourceKind.Bindings), binder);
        }

        IReadOnlyList<ServedGroup> servedElsewhere = [MetricsApiHandler.Discovery, .. AccessReviews.Discovery];
        _discovery = new DiscoveryDocuments([.. handlers.Select(h => h.Kind)], servedElsewhere);
        _openApi = new OpenApiDocuments([.. handlers.Select(h => h.Kind)], servedElsewhere);
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext http)
    {
        try
        {
            await DispatchAsync(http);
        }
        catch (ApiException e) when (!http.Response.HasStarted)
        {
            if (e.InnerException is { } storeFailure)
            {
                LogStorageFailure(_logger, http.Request.Method, http.Request.Path, storeFailure);
            }

            await ApiJson.WriteErrorAsync(http, e);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        catch (Exception e) when (!http.Response.HasStarted)
        {
            LogUnexpectedFailure(_logger, http.Request.Method, http.Request.Path, e);
            await ApiJson.WriteErrorAsync(http, ApiException.Internal(e.Message));
        }
    }

    private async Task DispatchAsync(HttpContext http)
    {
        string path = http.Request.Path.Value ?? "/";
        string[] segments = path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length >= 1 && segments[0] is "healthz" or "livez")
        {
            http.Response.ContentType = "text/plain; charset=utf-8";
            await http.Response.WriteAsync("ok", http.RequestAborted);
            return;
        }

        if (segments.Length >= 1 && segments[0] == "readyz")
        {
            var (ready, report) = await _readiness.CheckAsync(component: null, http.RequestAborted);
            http.Response.StatusCode = ready ? StatusCodes.Status200OK : StatusCodes.Status500InternalServerError;
            http.Response.ContentType = "text/plain; charset=utf-8";
            await http.Response.WriteAsync(http.Request.Query.ContainsKey("verbose") || !ready ? report : "ok", http.RequestAborted);
            return;
        }

        if (path == "/version")
        {
            await ApiJson.WriteAsync(http, 200, VersionInfo.Document());
            return;
        }

        if (segments is ["ui", .. var page] && _ui is not null)
        {
            // The web view authenticates its sessions itself, by their tokens, and authorizes what each page sees as that user.
            await _ui.InvokeAsync(http, page);
            return;
        }

        var user = await AuthenticateAsync(http);
        user.SetOn(http);
        EscalationCheck.CurrentUser.Value = user;
        if (segments is not (["api", "v1", _, ..] or ["apis", _, _, _, ..]))
        {
            _security.Authorizer.Require(RequestAttributes.ForPath(UserInfo.Of(http), http.Request.Method.ToLowerInvariant(), path));
        }

        switch (segments)
        {
            case [".well-known", "openid-configuration"]:
                await _security.Tokens.WriteDiscoveryAsync(http, keys: false);
                return;
            case ["openid", "v1", "jwks"]:
                await _security.Tokens.WriteDiscoveryAsync(http, keys: true);
                return;
            case ["api" or "apis"] when AggregatedDiscovery.Requested(http) is { } discoveryVersion:
                await AggregatedDiscovery.WriteAsync(http, _discovery.Aggregated(legacy: segments[0] == "api", discoveryVersion), discoveryVersion);
                return;
            case ["api"]:
                await ApiJson.WriteAsync(http, 200, _discovery.Versions($"{http.Connection.LocalIpAddress}:{http.Connection.LocalPort}"));
                return;
            case ["apis"]:
                await ApiJson.WriteAsync(http, 200, _discovery.GroupList());
                return;
            case ["api", "v1"]:
                await ApiJson.WriteAsync(http, 200, _discovery.ResourceList("", "v1"));
                return;
            case ["apis", var group] when _discovery.Groups.Contains(group):
                await ApiJson.WriteAsync(http, 200, _discovery.Group(group));
                return;
            case ["apis", var group, var version] when _discovery.HasGroupVersion(group, version):
                await ApiJson.WriteAsync(http, 200, _discovery.ResourceList(group, version));
                return;
            case ["apis", MetricsApiHandler.Group, MetricsApiHandler.Version, .. var metricsPath]:
                var metricsRequest = metricsPath switch
                {
                    ["namespaces", var metricsNamespace, var resource, .. var name] => new RequestInfo(MetricsApiHandler.Group, MetricsApiHandler.Version, resource, metricsNamespace, name.FirstOrDefault(), null),
                    [var resource, .. var name] => new RequestInfo(MetricsApiHandler.Group, MetricsApiHandler.Version, resource, null, name.FirstOrDefault(), null),
                    _ => new RequestInfo(MetricsApiHandler.Group, MetricsApiHandler.Version, "", null, null, null),
                };
                Routed(http, metricsRequest, Verb(http, metricsRequest));
                await _resourceMetrics.HandleAsync(http, metricsPath);
                return;
            case ["metrics"]:
                await OperationsServer.WriteMetricsAsync(http, _metrics.Registry);
                return;
            case ["openapi", "v2"]:
                await OpenApiResponses.WriteV2Async(http, _openApi);
                return;
            case ["openapi", "v3"]:
                await ApiJson.WriteAsync(http, 200, _openApi.Root());
                return;
            case ["openapi", "v3", ..]:
                await OpenApiResponses.WriteV3Async(http, _openApi, string.Join('/', segments[2..]));
                return;
            case ["api", "v1", .. var rest]:
                await RouteAsync(http, "", "v1", rest);
                return;
            case ["apis", var group, var version, .. var rest]:
                await RouteAsync(http, group, version, rest);
                return;
            default:
                throw ApiException.PathNotFound();
        }
    }

    private Task RouteAsync(HttpContext http, string group, string version, string[] rest)
    {
        if (AccessReviews.Route(group, version, rest) is var (review, reviewNamespace))
        {
            Authorize(http, new RequestInfo(group, version, review, reviewNamespace, null, null), "create");
            return _security.Reviews.HandleAsync(http, review, reviewNamespace);
        }

        // The subresources a node serves: their paths are longer than a resource's, or their answer is not an object.
        switch (group, version, rest)
        {
            case ("", "v1", ["namespaces", var podNamespace, "pods", var pod, var stream]) when NodeStreams.IsPodStream(stream):
                // exec, attach and port-forward are creates whatever the method, as kube-apiserver 1.32 checks a WebSocket's GET.
                Routed(http, new RequestInfo(group, version, "pods", podNamespace, pod, stream), stream == "log" ? "get" : "create");
                return _streams.PodAsync(http, podNamespace, pod, stream);
            case ("", "v1", ["namespaces", var podNamespace, "pods", var pod, EvictionHandler.Subresource]):
                Routed(http, new RequestInfo(group, version, "pods", podNamespace, pod, EvictionHandler.Subresource), "create");
                return _evictions.EvictAsync(http, podNamespace, pod);
            case ("", "v1", ["nodes", var node, "proxy", .. var nodePath]) when NodePort(node) is var (nodeName, port):
                Routed(http, new RequestInfo(group, version, "nodes", null, node, "proxy"), ProxyVerb(http));
                return _streams.ProxyNodePortAsync(http, nodeName, port, nodePath, _services);
            case ("", "v1", ["nodes", var node, "proxy", .. var nodePath]):
                Routed(http, new RequestInfo(group, version, "nodes", null, node, "proxy"), ProxyVerb(http));
                return _streams.ProxyNodeAsync(http, node, nodePath);
            case ("", "v1", ["namespaces", var serviceNamespace, "services", var service, "proxy", .. var servicePath]):
                Routed(http, new RequestInfo(group, version, "services", serviceNamespace, service, "proxy"), ProxyVerb(http));
                return _services.ForwardAsync(http, serviceNamespace, service, servicePath);
            case ("", "v1", ["namespaces", var accountNamespace, "serviceaccounts", var account, "token"]):
                Routed(http, new RequestInfo(group, version, "serviceaccounts", accountNamespace, account, "token"), "create");
                return _security.Tokens.CreateAsync(http, accountNamespace, account);
        }

        RequestInfo? request = rest switch
        {
            ["namespaces", var ns, var resource, .. var tail] when tail.Length <= 2 && IsNamespaced(group, version, resource) =>
                new RequestInfo(group, version, resource, ns, tail.ElementAtOrDefault(0), tail.ElementAtOrDefault(1)),
            [var resource, .. var tail] when tail.Length <= 2 =>
                new RequestInfo(group, version, resource, null, tail.ElementAtOrDefault(0), tail.ElementAtOrDefault(1)),
            _ => null,
        };
        if (request is null || !_handlers.TryGetValue((group, version, request.Resource), out var handler))
        {
            throw ApiException.PathNotFound();
        }

        // A namespaced kind read across all namespaces has no name; a cluster-scoped kind never has a namespace.
        if (handler.Kind.Namespaced && request.Namespace is null && request.Name is not null)
        {
            throw ApiException.PathNotFound();
        }

        Routed(http, request, Verb(http, request));
        return handler.HandleAsync(http, request);
    }

    /// <summary>Records the request for metrics and lets it through only if its user may <paramref name="verb"/> it (403 otherwise).</summary>
    private void Routed(HttpContext http, RequestInfo request, string verb)
    {
        _metrics.Routed(http, request);
        Authorize(http, request, verb);
    }

    private void Authorize(HttpContext http, RequestInfo request, string verb)
    {
        var user = UserInfo.Of(http);
        if (!user.IsMaster)
        {
            _security.Authorizer.Require(RequestAttributes.ForResource(user, verb, request.Group, request.Resource, request.Subresource, request.Namespace, request.Name ?? NameOfSelector(http)));
        }
    }

    /// <summary>kube-apiserver's verb of a resource request (RequestInfoFactory): by method, a read of a collection being a list or a watch.</summary>
    private static string Verb(HttpContext http, RequestInfo request) => http.Request.Method switch
    {
        "GET" or "HEAD" when request.Name is null => RequestQuery.IsTrue(http.Request.Query["watch"]) ? "watch" : "list",
        "DELETE" when request.Name is null => "deletecollection",
        _ => ProxyVerb(http),
    };

    private static string ProxyVerb(HttpContext http) => http.Request.Method switch
    {
        "GET" or "HEAD" => "get",
        "POST" => "create",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" => "delete",
        var other => other.ToLowerInvariant(),
    };

    /// <summary>The name a list or watch selects by <c>metadata.name=</c>, which RBAC's resourceNames then match, as upstream.</summary>
    private static string? NameOfSelector(HttpContext http)
    {
        foreach (string? selector in http.Request.Query["fieldSelector"])
        {
            foreach (string requirement in (selector ?? "").Split(','))
            {
                string trimmed = requirement.Trim();
                foreach (string prefix in (string[])["metadata.name==", "metadata.name="])
                {
                    if (trimmed.StartsWith(prefix, StringComparison.Ordinal))
                    {
                        return trimmed[prefix.Length..];
                    }
                }
            }
        }

        return null;
    }

    /// <summary>kube-apiserver's <c>[http:]NAME:PORT</c> of a node proxy, for a port other than the kubelet's; null for a bare name.</summary>
    private static (string Name, int Port)? NodePort(string node)
    {
        string[] parts = node.Split(':');
        if (parts is ["http", _, _])
        {
            parts = parts[1..];
        }

        return parts is [var name, var port]
            && int.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int number)
            && number is > 0 and <= 65535 && number != KubeletClient.DefaultPort
            ? (name, number)
            : null;
    }

    private bool IsNamespaced(string group, string version, string resource) =>
        _handlers.TryGetValue((group, version, resource), out var handler) && handler.Kind.Namespaced;

    /// <summary>The user the request acts as: who authenticated, or whom it impersonates.</summary>
    private async ValueTask<UserInfo> AuthenticateAsync(HttpContext http) =>
        Impersonation.Apply(http, await _security.Authenticator.AuthenticateAsync(http), _security.Authorizer);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Error, Message = "{Method} {Path} failed unexpectedly")]
    private static partial void LogUnexpectedFailure(ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Error, Message = "{Method} {Path} failed in the store")]
    private static partial void LogStorageFailure(ILogger logger, string method, string path, Exception exception);
}
