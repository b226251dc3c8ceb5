using System.Net;
using Switchboard.Dns.Feed;
using Switchboard.Dns.Operations;
using Switchboard.Dns.Server;
using Switchboard.Dns.SkyDns;
using Switchboard.Kube.Metrics;

namespace Switchboard.Dns;

/// <summary>A running DNS service (see <see cref="DnsService.StartAsync"/>); disposing stops it.</summary>
public sealed class DnsServiceHost : IAsyncDisposable
{
    private readonly IReadOnlyList<DnsServer> _servers;
    private readonly OperationsServer? _operations;
    private readonly ClusterDnsFeed _feed;
    private readonly SkyDnsZone? _skyDns;
    private readonly CancellationTokenSource _stop;
    private readonly Task[] _loops;
    private readonly IDisposable[] _metricsRegistrations;

    internal DnsServiceHost(
        IReadOnlyList<DnsServer> servers, OperationsServer? operations, ClusterDnsFeed feed, SkyDnsZone? skyDns, DnsMetrics metrics, CancellationTokenSource stop, Task[] loops, IDisposable[] metricsRegistrations)
    {
        _servers = servers;
        _operations = operations;
        _feed = feed;
        _skyDns = skyDns;
        Metrics = metrics;
        _stop = stop;
        _loops = loops;
        _metricsRegistrations = metricsRegistrations;
    }

    /// <summary>The bound DNS listeners (UDP and TCP on each).</summary>
    public IReadOnlyList<IPEndPoint> EndPoints => [.. _servers.Select(s => s.EndPoint)];

    /// <summary>Where /metrics, /health and /ready answer, if anywhere.</summary>
    public IPEndPoint? OperationsEndPoint => _operations?.EndPoint;

    public DnsMetrics Metrics { get; }

    /// <summary>The informers have synced (and the SkyDNS zone loaded): negative answers are authoritative.</summary>
    public bool IsReady => _feed.IsSynced && (_skyDns?.IsSynced ?? true);

    public Task WaitForSyncAsync(CancellationToken cancellationToken) => _feed.WaitForSyncAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
        foreach (DnsServer server in _servers)
        {
            await server.DisposeAsync();
        }

        if (_operations is not null)
        {
            await _operations.DisposeAsync();
        }

        foreach (IDisposable registration in _metricsRegistrations)
        {
            registration.Dispose();
        }

        _stop.Dispose();
    }
}
