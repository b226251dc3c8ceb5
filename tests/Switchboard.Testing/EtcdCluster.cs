using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Switchboard.Storage;
using Switchboard.Storage.Etcd;

namespace Switchboard.Testing;

/// <summary>
/// A real etcd (Debian etcd-server at /usr/bin/etcd) on 127.0.0.1 with free ports and a temp data dir, for
/// use as an xunit class fixture: one member by default, three with <see cref="EtcdClusterOfThree"/>.
/// Every process is killed by PID and the data dir removed on dispose, even when a test fails.
/// </summary>
public class EtcdCluster : IAsyncLifetime, IDisposable
{
    private const string EtcdPath = "/usr/bin/etcd";

    /// <summary>etcd's --max-request-bytes: a value at <see cref="StorageLimits.MaxValueBytes"/> plus its key and framing must fit.</summary>
    private const int MaxRequestBytes = StorageLimits.MaxValueBytes + (64 * 1024);

    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(30);
    private readonly int _size;
    private readonly TempDirectory _dataDir = new("switchboard-etcd-");
    private readonly List<EtcdMember> _members = [];

    public EtcdCluster()
        : this(1)
    {
    }

    protected EtcdCluster(int size) => _size = size;

    public IReadOnlyList<EtcdMember> Members => _members;

    /// <summary>Every member, as given to <c>--store</c>.</summary>
    public StoreLocation Location => StoreLocation.Parse("etcd://" + string.Join(',', _members.Select(m => $"127.0.0.1:{m.ClientPort}")));

    /// <summary>A key prefix no other test uses.</summary>
    public static string NewPrefix() => $"/test/{Guid.NewGuid():N}/";

    /// <summary>A store on every member; background compaction is off unless the options turn it on.</summary>
    public EtcdKeyValueStore OpenStore(EtcdStoreOptions? options = null, ILoggerFactory? loggerFactory = null) =>
        EtcdKeyValueStore.Connect(Location, options ?? new EtcdStoreOptions { CompactionInterval = null }, loggerFactory: loggerFactory);

    public async Task InitializeAsync()
    {
        try
        {
            int[] ports = [.. Enumerable.Range(0, 2 * _size).Select(_ => FreePort.Next())];
            string token = Path.GetFileName(_dataDir.Path);
            for (int i = 0; i < _size; i++)
            {
                _members.Add(new EtcdMember($"m{i}", ports[2 * i], ports[(2 * i) + 1], _dataDir.File($"m{i}")));
            }

            string initialCluster = string.Join(',', _members.Select(m => $"{m.Name}={m.PeerUrl}"));
            foreach (var member in _members)
            {
                member.Configure(
                [
                    "--name", member.Name,
                    "--data-dir", member.DataDir,
                    "--listen-client-urls", member.ClientUrl,
                    "--advertise-client-urls", member.ClientUrl,
                    "--listen-peer-urls", member.PeerUrl,
                    "--initial-advertise-peer-urls", member.PeerUrl,
                    "--initial-cluster", initialCluster,
                    "--initial-cluster-state", "new",
                    "--initial-cluster-token", token,
                    "--max-request-bytes", MaxRequestBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--logger", "zap",
                    "--log-outputs", "stderr",
                ]);
                member.Start();
            }

            await Task.WhenAll(_members.Select(m => m.WaitHealthyAsync(StartDeadline)));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public Task DisposeAsync()
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        foreach (var member in _members)
        {
            member.Kill();
        }

        _dataDir.Dispose();
    }

    /// <summary>One etcd process; killed by PID, started again on the same data dir to rejoin the cluster.</summary>
    public sealed class EtcdMember
    {
        private static readonly HttpClient Health = new() { Timeout = TimeSpan.FromSeconds(2) };
        private string[] _arguments = [];
        private RunningProcess? _process;

        internal EtcdMember(string name, int clientPort, int peerPort, string dataDir)
        {
            Name = name;
            ClientPort = clientPort;
            PeerPort = peerPort;
            DataDir = dataDir;
        }

        public string Name { get; }

        public int ClientPort { get; }

        public int PeerPort { get; }

        public string DataDir { get; }

        public string ClientUrl => $"http://127.0.0.1:{ClientPort}";

        public string PeerUrl => $"http://127.0.0.1:{PeerPort}";

        public bool IsRunning => _process is { HasExited: false };

        internal void Configure(string[] arguments) => _arguments = arguments;

        /// <summary>Starts etcd; what it logs is kept, to show when it does not come up.</summary>
        public void Start()
        {
            var environment = new Dictionary<string, string>();
            if (RuntimeInformation.OSArchitecture != Architecture.X64)
            {
                environment["ETCD_UNSUPPORTED_ARCH"] = RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();
            }

            _process = RunningProcess.Start(EtcdPath, _arguments, environment);
        }

        /// <summary>SIGKILL, as a crash: no goodbye to clients or peers.</summary>
        public void Kill()
        {
            _process?.Dispose();
            _process = null;
        }

        /// <summary>SIGTERM: etcd says goodbye to its clients and hands over leadership before it exits.</summary>
        public void Stop()
        {
            _process?.Terminate();
            Kill();
        }

        /// <summary>Polls /health (there is no event to await from another process) until it says true.</summary>
        public async Task WaitHealthyAsync(TimeSpan deadline)
        {
            var stopwatch = Stopwatch.StartNew();
            while (stopwatch.Elapsed < deadline)
            {
                if (!IsRunning)
                {
                    throw new InvalidOperationException($"etcd {Name} exited while starting:\n{ReadLog()}");
                }

                try
                {
                    string body = await Health.GetStringAsync(new Uri(ClientUrl + "/health"));
                    if (body.Contains("\"health\":\"true\"", StringComparison.Ordinal))
                    {
                        return;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    // Not listening yet.
                }

                await Task.Delay(100);
            }

            throw new TimeoutException($"etcd {Name} was not healthy within {deadline}:\n{ReadLog()}");
        }

        private string ReadLog() => string.Join('\n', (_process?.Output ?? "").Split('\n').TakeLast(30));
    }
}
