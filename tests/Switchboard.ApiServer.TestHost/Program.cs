using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Switchboard.ApiServer;
using Switchboard.Storage;
using Switchboard.Storage.Etcd;
using Switchboard.Storage.Sqlite;

// Usage: --data-dir DIR [--store sqlite|etcd://HOST:PORT,…] [--api-address A] [--api-port P] [--service-cluster-ip-range CIDR]
// Prints "serving URL" on stdout once it answers, then runs until SIGTERM/SIGINT (or SIGKILL).
var arguments = new Dictionary<string, string>(StringComparer.Ordinal);
for (int i = 0; i + 1 < args.Length; i += 2)
{
    arguments[args[i]] = args[i + 1];
}

string dataDir = arguments.GetValueOrDefault("--data-dir") ?? throw new ArgumentException("--data-dir is required");
var location = StoreLocation.Parse(arguments.GetValueOrDefault("--store", "sqlite"));
Directory.CreateDirectory(dataDir);

using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning).AddFilter("Switchboard", LogLevel.Information));
await using IKeyValueStore store = location.IsEtcd
    ? EtcdKeyValueStore.Connect(location, loggerFactory: loggerFactory)
    : SqliteKeyValueStore.Open(Path.Combine(dataDir, "state.db"), loggerFactory: loggerFactory);
var options = new ApiServerOptions
{
    DataDirectory = dataDir,
    Address = IPAddress.Parse(arguments.GetValueOrDefault("--api-address", "127.0.0.1")),
    Port = int.Parse(arguments.GetValueOrDefault("--api-port", "6443"), CultureInfo.InvariantCulture),
    ServiceClusterIpRange = arguments.GetValueOrDefault("--service-cluster-ip-range", "10.96.0.0/16"),
};

using var stopping = new CancellationTokenSource();
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
{
    c.Cancel = true;
    stopping.Cancel();
});
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stopping.Cancel();
};

await using var host = await ApiServerHost.StartAsync(options, store, loggerFactory);
Console.Out.WriteLine($"serving {host.Url}");
Console.Out.Flush();
try
{
    await Task.Delay(Timeout.Infinite, stopping.Token);
}
catch (OperationCanceledException)
{
    // Asked to stop.
}
