using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Switchboard.Kube.Metrics;
using Switchboard.Kube.Hosting;
using Microsoft.AspNetCore.Http;
using Switchboard.Proxy;
using Switchboard.Proxy.Trace;

namespace Switchboard.Commands;

/// <summary><c>switchboard proxy</c>: the service proxy alone, writing the rules of every Service into a node's namespace.</summary>
internal static class ProxyCommand
{
    public static Command Create()
    {
        var kubeconfig = CommonOptions.Kubeconfig();
        var dataDir = CommonOptions.DataDir();
        var node = NodeCommand.NameOption("--node");
        var clusterName = new Option<string?>("--cluster-name")
        {
            Description = "The cluster prefix of the node's namespace, as given to `switchboard node` (default: derived from --data-dir)",
        };
        var mode = ModeOption("--mode");
        var metricsAddress = DnsFlags.EndPoint(
            "--metrics-address", "Address of /metrics, kube-proxy's /healthz (plain HTTP; JSON, 503 while the rules are stale) and /trace (switchboard trace)", "127.0.0.1:10249");
        var traceBuffer = TraceBufferOption("--trace-buffer");
        var command = new Command("proxy", "Run the service proxy alone: program every Service's ClusterIP into the node's network namespace")
        {
            kubeconfig, dataDir, node, clusterName, mode, metricsAddress, traceBuffer,
        };
        command.SetAction(async (result, _) =>
        {
            string path = result.GetRequiredValue(kubeconfig).FullName;
            var nodeOptions = NodeCommand.Options(result.GetRequiredValue(node), result.GetRequiredValue(dataDir).FullName, result.GetValue(clusterName));
            using var loggerFactory = Logging.CreateFactory();
            var operations = result.GetValue(metricsAddress)!;
            return await ComponentHost.RunAsync(
                loggerFactory,
                services => services
                    .AddKubeClient(path)
                    .AddProxy(new ProxyOptions { NodeNamespace = nodeOptions.NodeNamespace, NodeName = nodeOptions.NodeName, Mode = ReadMode(result, mode), TracePort = operations.Port, TraceBuffer = result.GetValue(traceBuffer) })
                    .AddMetricsEndpoint(operations, Routes));
        });
        return command;
    }

    /// <summary>kube-proxy's <c>/healthz</c> and the connection trace's <c>/trace</c>, beside <c>/metrics</c>.</summary>
    private static IReadOnlyDictionary<string, RequestDelegate> Routes(IServiceProvider provider)
    {
        var routes = new Dictionary<string, RequestDelegate>(provider.GetRequiredService<ProxyHealth>().Routes(provider.GetRequiredService<MetricsRegistry>()), StringComparer.Ordinal);
        foreach (var (path, route) in provider.GetService<ConnectionTrace>()?.Routes() ?? new Dictionary<string, RequestDelegate>())
        {
            routes[path] = route;
        }

        return routes;
    }

    /// <summary>How many connection events the proxy keeps for <c>switchboard trace</c> (<c>--trace-buffer</c> here, <c>--proxy-trace-buffer</c> on <c>up</c>).</summary>
    public static Option<int> TraceBufferOption(string name)
    {
        var option = new Option<int>(name)
        {
            Description = "Recent connection events kept for `switchboard trace`; 0 turns the connection trace off",
            DefaultValueFactory = _ => ConnectionTrace.DefaultCapacity,
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 0)
            {
                result.AddError($"{name} must be 0 or more");
            }
        });
        return option;
    }

    /// <summary>The proxy mode flag, <c>--mode</c> here and <c>--proxy-mode</c> on <c>up</c>; values in lower case, as kube-proxy's.</summary>
    public static Option<string> ModeOption(string name)
    {
        string[] modes = [.. Enum.GetNames<ProxyMode>().Select(n => n.ToLowerInvariant())];
        var option = new Option<string>(name)
        {
            Description = "How service IPs are programmed (iptables is kube-proxy's default)",
            DefaultValueFactory = _ => "iptables",
        };
        option.AcceptOnlyFromAmong(modes);
        return option;
    }

    public static ProxyMode ReadMode(ParseResult result, Option<string> option) => Enum.Parse<ProxyMode>(result.GetRequiredValue(option), ignoreCase: true);
}
