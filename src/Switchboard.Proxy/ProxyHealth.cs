using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Switchboard.Kube.Metrics;

namespace Switchboard.Proxy;

/// <summary>
/// kube-proxy's proxier health (pkg/proxy/healthcheck): healthy once the rules were synced and while no change has
/// waited for a sync longer than the health timeout (2 × the sync period). Served on <c>/healthz</c> as kube-proxy
/// serves it (on its metrics port too): a JSON body with <c>lastUpdated</c> and <c>currentTime</c>, 200 when healthy, else 503.
/// </summary>
public sealed class ProxyHealth(TimeProvider time, TimeSpan healthTimeout)
{
    private readonly Lock _lock = new();
    private DateTimeOffset _lastUpdated;
    private DateTimeOffset _oldestPending;

    /// <summary>A change was seen that the next sync will program.</summary>
    public void QueuedUpdate()
    {
        lock (_lock)
        {
            if (_oldestPending == default)
            {
                _oldestPending = time.GetUtcNow();
            }
        }
    }

    /// <summary>A sync programmed every change queued before it.</summary>
    public void Updated()
    {
        lock (_lock)
        {
            _lastUpdated = time.GetUtcNow();
            _oldestPending = default;
        }
    }

    /// <summary>Whether the proxy is healthy now, and the body kube-proxy answers <c>/healthz</c> with.</summary>
    public (bool Healthy, string Json) Check()
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            bool healthy = _lastUpdated != default && (_oldestPending == default || now - _oldestPending <= healthTimeout);
            return (healthy, $$"""{"lastUpdated": "{{Format(_lastUpdated)}}","currentTime": "{{Format(now)}}", "nodeEligible": true}""");
        }
    }

    /// <summary>kube-proxy's <c>/healthz</c> handler over <see cref="Check"/>, counting answers in <c>kubeproxy_proxy_healthz_total{code}</c>.</summary>
    public IReadOnlyDictionary<string, RequestDelegate> Routes(MetricsRegistry metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        Counter<long> served = metrics.CreateMeter("Switchboard.Proxy.Healthz")
            .CreateCounter<long>("kubeproxy_proxy_healthz_total", description: "Cumulative proxy healthz HTTP status");
        return new Dictionary<string, RequestDelegate>(StringComparer.Ordinal)
        {
            ["/healthz"] = async context =>
            {
                var (healthy, json) = Check();
                int code = healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
                served.Add(1, new KeyValuePair<string, object?>("code", code.ToString(CultureInfo.InvariantCulture)));
                context.Response.StatusCode = code;
                context.Response.ContentType = "application/json";
                context.Response.Headers["X-Content-Type-Options"] = "nosniff";
                await context.Response.WriteAsync(json, context.RequestAborted);
            },
        };
    }

    // Go's time.Time.String(), as kube-proxy prints it.
    private static string Format(DateTimeOffset t) =>
        t == default ? "0001-01-01 00:00:00 +0000 UTC" : t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fffffff", CultureInfo.InvariantCulture) + " +0000 UTC";
}
