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
        var command = new Command("controllers", "Run the controllers (deployments, replicasets, scheduler, endpoints, slices, GC, namespaces) alone")
        {
            kubeconfig,
            metricsAddress,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            using var loggerFactory = Logging.CreateFactory();
            string path = result.GetRequiredValue(kubeconfig).FullName;
            return await ComponentHost.RunAsync(
                loggerFactory,
                services => services.AddKubeClient(path).AddControllers(new ControllerOptions()).AddMetricsEndpoint(result.GetValue(metricsAddress)!));
        });
        return command;
    }
}
