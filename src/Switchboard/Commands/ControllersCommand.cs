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
        var rootCaFile = new Option<FileInfo?>("--root-ca-file") { Description = "The cluster CA (PEM) to publish as the kube-root-ca.crt ConfigMap of every namespace, for pods to verify the API server" };
        var command = new Command("controllers", "Run the controllers (deployments, replicasets, scheduler, endpoints, slices, GC, namespaces, node IPAM and lifecycle) alone")
        {
            kubeconfig,
            metricsAddress,
            gracePeriod,
            rootCaFile,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            using var loggerFactory = Logging.CreateFactory();
            string path = result.GetRequiredValue(kubeconfig).FullName;
            return await ComponentHost.RunAsync(
                loggerFactory,
                services => services.AddKubeClient(path).AddControllers(WithGracePeriod(new ControllerOptions { RootCaFile = result.GetValue(rootCaFile)?.FullName }, result.GetValue(gracePeriod))).AddMetricsEndpoint(result.GetValue(metricsAddress)!));
        });
        return command;
    }

    /// <summary>
    /// kube-controller-manager's <c>--node-monitor-grace-period</c>, a duration (<c>40s</c>, <c>500ms</c>, <c>2m</c>): how
    /// long a node may go without renewing its Lease before it is Ready=Unknown and tainted unreachable.
    /// </summary>
    public static Option<TimeSpan> GracePeriodOption() => CommonOptions.Duration(
        "--node-monitor-grace-period", "How long a node may go without renewing its Lease before it is Ready=Unknown and tainted unreachable", TimeSpan.FromSeconds(40));

    /// <summary>The grace period given, with nodes looked at every 5 s (upstream's --node-monitor-period) or a quarter of a shorter grace period.</summary>
    public static ControllerOptions WithGracePeriod(ControllerOptions options, TimeSpan grace) => options with
    {
        NodeMonitorGracePeriod = grace,
        NodeMonitorPeriod = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(5).Ticks, grace.Ticks / 4)),
    };
}
