using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Switchboard.ApiServer;
using Switchboard.Dns;
using Switchboard.Kube.Hosting;
using Switchboard.Storage.Sqlite;

namespace Switchboard.DnsBench;

/// <summary>
/// <c>apiserver --data-dir DIR --port P</c>: an API server over SQLite, until SIGTERM.
/// <c>serve --kubeconfig FILE --listen ADDR:PORT --ops ADDR:PORT [--trace-buffer N]</c>: the DNS service, until SIGTERM.
/// <c>populate --kubeconfig FILE --dns ADDR:PORT --count N --out DIR</c>: creates N services, timing each
/// until the DNS server answers it, and writes the query file and unbound's local-data for the same names.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        Dictionary<string, string> flags = Flags(args.AsSpan(1));
        using var stop = new CancellationTokenSource();
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Cancel();
        });
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        using ILoggerFactory logs = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        switch (args.FirstOrDefault())
        {
            case "apiserver":
                await using (SqliteKeyValueStore store = SqliteKeyValueStore.Open(Path.Combine(flags["--data-dir"], "state.db")))
                {
                    var options = new ApiServerOptions { DataDirectory = flags["--data-dir"], Port = int.Parse(flags["--port"], System.Globalization.CultureInfo.InvariantCulture) };
                    await RunAsync(logs, services => services.AddApiServer(options, store), stop.Token);
                }

                return 0;
            case "serve":
                var dns = new DnsServiceOptions
                {
                    Listen = [IPEndPoint.Parse(flags["--listen"])],
                    OperationsEndPoint = IPEndPoint.Parse(flags["--ops"]),
                    Forward = false,
                    TraceBuffer = flags.TryGetValue("--trace-buffer", out string? traceBuffer)
                        ? int.Parse(traceBuffer, System.Globalization.CultureInfo.InvariantCulture)
                        : Switchboard.Dns.Trace.DnsTraceBuffer.DefaultCapacity,
                };
                await RunAsync(logs, services => services.AddKubeClient(flags["--kubeconfig"]).AddClusterDns(dns), stop.Token);
                return 0;
            case "populate":
                await Populate.RunAsync(flags["--kubeconfig"], IPEndPoint.Parse(flags["--dns"]), int.Parse(flags["--count"], System.Globalization.CultureInfo.InvariantCulture), flags["--out"], Console.Out);
                return 0;
            default:
                await Console.Error.WriteLineAsync("usage: Switchboard.DnsBench apiserver|serve|populate [--flag value …] (see bench/dns.sh)");
                return 2;
        }
    }

    /// <summary>The components in a host of their own, as <c>switchboard</c> composes them, until SIGTERM.</summary>
    private static async Task RunAsync(ILoggerFactory logs, Action<IServiceCollection> addComponents, CancellationToken stop)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton(logs);
        addComponents(builder.Services);
        using IHost host = builder.Build();
        await host.RunAsync(stop);
    }

    private static Dictionary<string, string> Flags(ReadOnlySpan<string> args)
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            flags[args[i]] = args[i + 1];
        }

        return flags;
    }
}
