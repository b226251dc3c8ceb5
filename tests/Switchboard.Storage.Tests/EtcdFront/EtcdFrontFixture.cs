using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.EtcdFront;
using Switchboard.Storage.Etcd;
using Switchboard.Storage.Sqlite;
using Switchboard.Testing;

namespace Switchboard.Storage.Tests.EtcdFront;

/// <summary>
/// The etcd v3 front over a SQLite store in a temp data dir (its CA and certificates made there as <c>up</c> makes
/// them), listening with TLS on a free loopback port; clients are the project's <see cref="EtcdKeyValueStore"/>
/// and the real etcdctl.
/// </summary>
public sealed class EtcdFrontFixture : IAsyncLifetime
{
    private readonly TempDirectory _directory = new("switchboard-etcd-front-");
    private EtcdFrontService? _front;

    public SqliteKeyValueStore Store { get; private set; } = null!;

    public EtcdFrontService Front => _front ?? throw new InvalidOperationException("the front starts in InitializeAsync");

    public string DataDirectory => _directory.Path;

    public string Endpoint => Front.TlsUrl!.AbsoluteUri.TrimEnd('/');

    /// <summary>etcdctl's flags that reach the front with the data dir's client certificate.</summary>
    public string[] EtcdctlFlags => ["--endpoints", Endpoint, "--cacert", Front.CaFile, "--cert", Front.ClientCertificate.CertificateFile, "--key", Front.ClientCertificate.KeyFile];

    public Task InitializeAsync() => StartAsync(new IPEndPoint(IPAddress.Loopback, FreePort.Next()));

    /// <summary>Stops the front and closes its store, then opens both again on the same data dir and port, as a restarted server.</summary>
    public async Task RestartAsync()
    {
        var listen = Front.TlsUrl!;
        await StopAsync();
        await StartAsync(new IPEndPoint(IPAddress.Loopback, listen.Port));
    }

    /// <summary>The project's etcd client store, over TLS with the data dir's client certificate, through the front.</summary>
    public EtcdKeyValueStore OpenClient() => EtcdKeyValueStore.Connect(
        StoreLocation.Parse(Endpoint),
        new EtcdStoreOptions { CaFile = Front.CaFile, CertificateFile = Front.ClientCertificate.CertificateFile, KeyFile = Front.ClientCertificate.KeyFile });

    /// <summary>Runs the real etcdctl (Debian etcd-client, API v3) against the front.</summary>
    public Task<ProcessResult> EtcdctlAsync(params string[] args) =>
        ChildProcess.RunAsync("etcdctl", [.. EtcdctlFlags, .. args], new Dictionary<string, string> { ["ETCDCTL_API"] = "3" }, TimeSpan.FromSeconds(30));

    public async Task DisposeAsync()
    {
        await StopAsync();
        _directory.Dispose();
    }

    private async Task StartAsync(IPEndPoint listen)
    {
        Store = SqliteKeyValueStore.Open(_directory.File("state.db"));
        var options = new EtcdFrontOptions
        {
            DataDirectory = _directory.Path,
            Listen = listen,
            DatabaseFile = _directory.File("state.db"),
            ProgressNotifyInterval = TimeSpan.FromSeconds(1),
        };
        _front = new EtcdFrontService(options, Store, NullLoggerFactory.Instance, TimeProvider.System);
        await _front.StartAsync(CancellationToken.None);
        await _front.WaitUntilReadyAsync(CancellationToken.None);
    }

    private async Task StopAsync()
    {
        if (_front is not null)
        {
            await _front.StopAsync(CancellationToken.None);
            _front.Dispose();
            _front = null;
        }

        if (Store is not null)
        {
            await Store.DisposeAsync();
        }
    }
}
