using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Hosting;
using Switchboard.Kube.Metrics;

namespace Switchboard.Proxy;

/// <summary>kube-proxy's health endpoint (<c>--healthz-bind-address</c>, port 10256): <c>/healthz</c> from <see cref="ProxyHealth"/>.</summary>
public sealed class ProxyHealthServer(IPEndPoint address, ProxyHealth health, MetricsRegistry metrics, ILoggerFactory loggerFactory) : Component(ComponentName)
{
    public const string ComponentName = "proxy-healthz";

    private OperationsServer? _server;

    /// <summary>The bound address (the port resolved when 0 was asked for).</summary>
    public IPEndPoint EndPoint => _server?.EndPoint ?? throw new InvalidOperationException("the proxy health endpoint has not started");

    protected override async Task OpenAsync(CancellationToken cancellationToken)
    {
        Counter<long> served = metrics.CreateMeter("Switchboard.Proxy.Healthz")
            .CreateCounter<long>("kubeproxy_proxy_healthz_total", description: "Cumulative proxy healthz HTTP status");
        var routes = new Dictionary<string, RequestDelegate>(StringComparer.Ordinal)
        {
            ["/healthz"] = async context =>
            {
                var (healthy, json) = health.Check();
                int code = healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
                served.Add(1, new KeyValuePair<string, object?>("code", code.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                context.Response.StatusCode = code;
                context.Response.ContentType = "application/json";
                context.Response.Headers["X-Content-Type-Options"] = "nosniff";
                await context.Response.WriteAsync(json, context.RequestAborted);
            },
        };
        _server = await OperationsServer.StartAsync(address, metrics, new Dictionary<string, Func<CancellationToken, Task<bool>>>(), routes, loggerFactory, cancellationToken);
        MarkReady();
    }

    protected override Task RunAsync(CancellationToken stoppingToken) => Task.Delay(Timeout.Infinite, stoppingToken);

    protected override async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }
}
