using System.Net;
using Switchboard.Dns.Server;

namespace Switchboard.Dns.Tests.Support;

/// <summary>A real server on a free loopback port, serving <see cref="TestCluster"/>.</summary>
public sealed class DnsServerFixture : IAsyncLifetime
{
    private DnsServer? _server;

    internal TestCluster Cluster { get; } = new();

    public IPEndPoint EndPoint => _server!.EndPoint;

    public Task InitializeAsync()
    {
        _server = DnsServer.Start(Cluster.Index, new DnsServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), UdpSockets = 2 }, TimeProvider.System);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
