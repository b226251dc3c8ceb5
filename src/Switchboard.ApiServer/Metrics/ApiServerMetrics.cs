using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Requests;
using Switchboard.Kube.Metrics;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Metrics;

/// <summary>
/// kube-apiserver's metrics under its names and labels: <c>apiserver_request_total</c> and
/// <c>apiserver_request_duration_seconds</c> (by verb, group, version, resource, subresource, scope; the total also
/// by code), <c>apiserver_longrunning_requests</c> (open watches) and <c>apiserver_storage_objects</c> (counted in
/// the store at scrape time). Requests are measured by <see cref="InvokeAsync"/>, the outermost middleware; the
/// router names a resource request with <see cref="Routed"/>; any other is counted by method and path.
/// </summary>
internal sealed class ApiServerMetrics : IDisposable
{
    /// <summary>kube-apiserver's buckets for apiserver_request_duration_seconds.</summary>
    private static readonly double[] DurationBounds = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

    /// <summary>The subresources served; any other name in a path is a 404 and is not made a label.</summary>
    private static readonly HashSet<string> Subresources = new(["status", "scale", "binding", "finalize", "log", "exec", "attach", "portforward", "proxy"], StringComparer.Ordinal);

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly UpDownCounter<long> _longRunning;
    private readonly ConcurrentDictionary<RouteKey, RequestRoute> _routes = new();
    private readonly IKeyValueStore _store;
    private readonly (string Prefix, KeyValuePair<string, object?> Resource)[] _kinds;
    private readonly long[] _objects;
    private readonly IDisposable _counting;
    private readonly TimeProvider _time;

    public ApiServerMetrics(MetricsRegistry registry, IKeyValueStore store, IEnumerable<ResourceKind> kinds, TimeProvider time)
    {
        Registry = registry;
        _store = store;
        _time = time;
        _kinds = [.. kinds.Select(k => (k.Prefix(null), new KeyValuePair<string, object?>("resource", k.Group.Length == 0 ? k.Plural : $"{k.Plural}.{k.Group}")))];
        _objects = new long[_kinds.Length];
        Meter meter = registry.CreateMeter("Switchboard.ApiServer");
        _requests = meter.CreateCounter<long>(
            "apiserver_request_total", description: "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.");
        _duration = meter.CreateHistogram(
            "apiserver_request_duration_seconds", "s", "Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBounds });
        _longRunning = meter.CreateUpDownCounter<long>("apiserver_longrunning_requests", description: "Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component.");
        meter.CreateObservableGauge("apiserver_storage_objects", ObserveObjects, description: "Number of stored objects at the time of last check split by kind.");
        _counting = registry.BeforeScrape(CountObjectsAsync);
    }

    /// <summary>Where these metrics are, which <c>/metrics</c> renders.</summary>
    public MetricsRegistry Registry { get; }

    /// <summary>The middleware: times the request and counts it once answered (a watch when it ends, as upstream).</summary>
    public async Task InvokeAsync(HttpContext http, RequestDelegate next)
    {
        long started = _time.GetTimestamp();
        try
        {
            await next(http);
        }
        finally
        {
            RequestRoute route = http.Features.Get<RequestRoute>() ?? NonResource(http);
            if (route.IsLongRunning)
            {
                _longRunning.Add(-1, route.LongRunningTags);
            }

            _requests.Add(1, route.WithCode(http.Response.StatusCode));
            _duration.Record(_time.GetElapsedTime(started).TotalSeconds, route.Tags);
        }
    }

    /// <summary>Names a resource request (kube-apiserver's verbs and scopes) once the router has found its handler.</summary>
    public void Routed(HttpContext http, RequestInfo request)
    {
        HttpRequest r = http.Request;
        string verb = (r.Method, request.Name) switch
        {
            ("GET" or "HEAD", null) => r.Query["watch"] is ["true" or "1"] ? "WATCH" : "LIST",
            ("DELETE", null) => "DELETECOLLECTION",
            ("PATCH", _) when r.ContentType?.StartsWith("application/apply-patch", StringComparison.Ordinal) == true => "APPLY",
            _ => Verb(r.Method),
        };
        string scope = request.Name is not null || verb == "POST" ? "resource" : request.Namespace is not null ? "namespace" : "cluster";
        string subresource = request.Subresource is { } name && Subresources.Contains(name) ? name : "";
        string dryRun = r.Query["dryRun"].Contains("All") ? "All" : "";
        RequestRoute route = Route(new RouteKey(verb, dryRun, request.Group, request.Version, request.Resource, subresource, scope));
        http.Features.Set(route);
        if (route.IsLongRunning)
        {
            _longRunning.Add(1, route.LongRunningTags);
        }
    }

    public void Dispose() => _counting.Dispose();

    /// <summary>The verb of a request by its method alone; an unknown method is "other", so a client cannot add labels.</summary>
    private static string Verb(string method) => method switch
    {
        "GET" or "HEAD" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        _ => "other",
    };

    /// <summary>
    /// A request no resource handler took: as kube-apiserver, a served non-resource path (/healthz, /apis, /metrics…)
    /// is its subresource label; a refused one (401, 404) has none, so clients cannot make up label values.
    /// </summary>
    private RequestRoute NonResource(HttpContext http)
    {
        string path = http.Response.StatusCode is StatusCodes.Status401Unauthorized or StatusCodes.Status404NotFound ? "" : http.Request.Path.Value ?? "";
        return Route(new RouteKey(Verb(http.Request.Method), "", "", "", "", path, ""));
    }

    private RequestRoute Route(RouteKey key) =>
        _routes.TryGetValue(key, out RequestRoute? route) ? route : _routes.GetOrAdd(key, static key => new RequestRoute(key));

    private async Task CountObjectsAsync(CancellationToken cancellationToken)
    {
        for (int i = 0; i < _kinds.Length; i++)
        {
            try
            {
                _objects[i] = await _store.CountAsync(_kinds[i].Prefix, cancellationToken);
            }
            catch (StorageException)
            {
                // As upstream when the count fails: -1 until the next one succeeds.
                _objects[i] = -1;
            }
        }
    }

    private IEnumerable<Measurement<long>> ObserveObjects()
    {
        for (int i = 0; i < _kinds.Length; i++)
        {
            yield return new Measurement<long>(Volatile.Read(ref _objects[i]), _kinds[i].Resource);
        }
    }
}
