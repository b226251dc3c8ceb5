using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Hosting;

namespace Switchboard.Kube.Metrics;

/// <summary>
/// A process's own <c>/metrics</c> and <c>/healthz</c> listener as a component, for a process without an API server
/// to serve them (as kube-controller-manager's and kube-proxy's metrics ports): <c>/healthz</c> answers from the
/// same readiness as every other component's checks, unless <paramref name="routes"/> serve it (kube-proxy's own
/// <c>/healthz</c>): a route answers its path whole.
/// </summary>
public sealed class MetricsEndpoint(
    IPEndPoint address, MetricsRegistry metrics, Readiness readiness, ILoggerFactory loggerFactory, IReadOnlyDictionary<string, RequestDelegate>? routes = null)
    : Component(ComponentName)
{
    public const string ComponentName = "metrics";

    private OperationsServer? _server;

    /// <summary>The bound address (the port resolved when 0 was asked for).</summary>
    public IPEndPoint EndPoint => _server?.EndPoint ?? throw new InvalidOperationException("the metrics endpoint has not started");

    protected override async Task OpenAsync(CancellationToken cancellationToken)
    {
        var checks = new Dictionary<string, Func<CancellationToken, Task<bool>>>(StringComparer.Ordinal)
        {
            ["/healthz"] = async ct => (await readiness.CheckAsync(null, ct)).Ready,
        };
        _server = await OperationsServer.StartAsync(address, metrics, checks, routes ?? new Dictionary<string, RequestDelegate>(), loggerFactory, cancellationToken);
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
