using System.CommandLine;
using Switchboard.Controllers;
using Switchboard.Kube.Hosting;

namespace Switchboard.Commands;

/// <summary><c>switchboard controllers</c>: the control loops alone, against any Kubernetes API server.</summary>
internal static class ControllersCommand
{
    public static Command Create()
    {
        var kubeconfig = CommonOptions.Kubeconfig();

        // Plain HTTP on loopback, as kube-proxy's :10249: the series hold counts and queue names, no object data.
        var metricsAddress = DnsFlags.EndPoint("--metrics-address", "Address of /metrics and /healthz (plain HTTP)", "127.0.0.1:10257");
        var gracePeriod = GracePeriodOption();
        var command = new Command("controllers", "Run the controllers (deployments, replicasets, scheduler, endpoints, slices, GC, namespaces, node IPAM and lifecycle) alone")
        {
            kubeconfig,
            metricsAddress,
            gracePeriod,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            using var loggerFactory = Logging.CreateFactory();
            string path = result.GetRequiredValue(kubeconfig).FullName;
            return await ComponentHost.RunAsync(
                loggerFactory,
                services => services.AddKubeClient(path).AddControllers(WithGracePeriod(new ControllerOptions(), result.GetValue(gracePeriod))).AddMetricsEndpoint(result.GetValue(metricsAddress)!));
        });
        return command;
    }

    /// <summary>
    /// kube-controller-manager's <c>--node-monitor-grace-period</c>, a duration (<c>40s</c>, <c>500ms</c>, <c>2m</c>): how
    /// long a node may go without renewing its Lease before it is Ready=Unknown and tainted unreachable.
    /// </summary>
    public static Option<TimeSpan> GracePeriodOption()
    {
        var option = new Option<TimeSpan>("--node-monitor-grace-period")
        {
            Description = "How long a node may go without renewing its Lease before it is Ready=Unknown and tainted unreachable (a duration: 40s, 500ms, 2m)",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(40),
            CustomParser = result =>
            {
                string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
                (string number, double unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
                    : text.EndsWith('s') ? (text[..^1], 1) : text.EndsWith('m') ? (text[..^1], 60) : (text, 0);
                if (unit > 0 && double.TryParse(number, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double value) && value > 0)
                {
                    return TimeSpan.FromSeconds(value * unit);
                }

                result.AddError($"--node-monitor-grace-period must be a positive duration such as 40s, 500ms or 2m, not \"{text}\"");
                return default;
            },
        };
        return option;
    }

    /// <summary>The grace period given, with nodes looked at every 5 s (upstream's --node-monitor-period) or a quarter of a shorter grace period.</summary>
    public static ControllerOptions WithGracePeriod(ControllerOptions options, TimeSpan grace) => options with
    {
        NodeMonitorGracePeriod = grace,
        NodeMonitorPeriod = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(5).Ticks, grace.Ticks / 4)),
    };
}
