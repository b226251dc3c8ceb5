using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// kube-apiserver's max-in-flight filter: reads and writes served at once each have a limit, and a request past it is
/// answered 429 with Retry-After at once rather than queued. Long-running requests (watches, and the streams relayed
/// to a node) have a limit of their own, which kube-apiserver lacks: each holds a store watch and buffers for as long
/// as its client keeps it open, so without one a single client could open them until the process runs out of memory.
/// Health checks are never limited, so probes see a busy server as alive.
/// </summary>
internal sealed class InflightLimits(int maxReads, int maxWrites, int maxLongRunning)
{
    private readonly Slots _reads = new(maxReads);
    private readonly Slots _writes = new(maxWrites);
    private readonly Slots _longRunning = new(maxLongRunning);

    public async Task InvokeAsync(HttpContext http, RequestDelegate next)
    {
        Slots? slots = Classify(http.Request);
        if (slots is null)
        {
            await next(http);
            return;
        }

        if (!slots.TryTake())
        {
            http.Response.Headers.RetryAfter = "1";
            await ApiJson.WriteErrorAsync(http, ApiException.TooManyRequests());
            return;
        }

        try
        {
            await next(http);
        }
        finally
        {
            slots.Release();
        }
    }

    private Slots? Classify(HttpRequest request)
    {
        string path = request.Path.Value ?? "/";
        if (path is "/healthz" or "/livez" or "/readyz" || path.StartsWith("/healthz/", StringComparison.Ordinal)
            || path.StartsWith("/livez/", StringComparison.Ordinal) || path.StartsWith("/readyz/", StringComparison.Ordinal))
        {
            return null;
        }

        if (IsLongRunning(request, path))
        {
            return _longRunning;
        }

        return HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method) ? _reads : _writes;
    }

    /// <summary>As kube-apiserver's long-running check: the watch verb, and the proxy, log, exec, attach and portforward subresources; and the web view's event stream.</summary>
    private static bool IsLongRunning(HttpRequest request, string path)
    {
        if (RequestQuery.IsTrue(request.Query["watch"]))
        {
            return true;
        }

        string[] segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments.Contains("proxy", StringComparer.Ordinal)
            || (segments is [.., "pods", _, "log" or "exec" or "attach" or "portforward"])
            || (segments is ["ui", "api", "events"]);
    }

    /// <summary>A counter of requests in flight against its limit (0: none).</summary>
    private sealed class Slots(int limit)
    {
        private int _taken;

        public bool TryTake()
        {
            if (Interlocked.Increment(ref _taken) <= limit || limit == 0)
            {
                return true;
            }

            Interlocked.Decrement(ref _taken);
            return false;
        }

        public void Release() => Interlocked.Decrement(ref _taken);
    }
}
