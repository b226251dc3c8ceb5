using System.CommandLine;
using Switchboard.Controllers;
using Switchboard.Kube.Metrics;

namespace Switchboard.Commands;

/// <summary><c>switchboard controllers</c>: the control loops alone, against any Kubernetes API server.</summary>
internal static class ControllersCommand
{
    public static Command Create()
    {
        var kubeconfig = CommonOptions.Kubeconfig();

        // Plain HTTP on loopback, as kube-proxy's :10249: the series hold counts and queue names, no object data.
        var metricsAddress = DnsFlags.EndPoint("--metrics-address", "Address of /metrics and /healthz (plain HTTP)", "127.0.0.1:10257");
        var command = new Command("controllers", "Run the controllers (deployments, replicasets, scheduler, endpoints, slices, GC, namespaces) alone")
        {
            kubeconfig,
            metricsAddress,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            using var loggerFactory = Logging.CreateFactory();
            using var stop = new StopSignal(cancellationToken);
            using var metrics = new MetricsRegistry();
            var checks = new Dictionary<string, Func<bool>>(StringComparer.Ordinal) { ["/healthz"] = () => true };
            await using var operations = await OperationsServer.StartAsync(result.GetValue(metricsAddress)!, metrics, checks, loggerFactory, stop.Token);
            try
            {
                await ControllerManager.RunAsync(result.GetRequiredValue(kubeconfig).FullName, new ControllerOptions { Metrics = metrics }, loggerFactory, stop.Token);
            }
            catch (OperationCanceledException) when (stop.Token.IsCancellationRequested)
            {
            }

            return 0;
        });
        return command;
    }
}
