using System.CommandLine;
using Switchboard.Controllers;

namespace Switchboard.Commands;

/// <summary><c>switchboard controllers</c>: the control loops alone, against any Kubernetes API server.</summary>
internal static class ControllersCommand
{
    public static Command Create()
    {
        var kubeconfig = CommonOptions.Kubeconfig();
        var command = new Command("controllers", "Run the controllers (deployments, replicasets, scheduler, endpoints, slices, GC, namespaces) alone")
        {
            kubeconfig,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            using var loggerFactory = Logging.CreateFactory();
            using var stop = new StopSignal(cancellationToken);
            try
            {
                await ControllerManager.RunAsync(result.GetRequiredValue(kubeconfig).FullName, new ControllerOptions(), loggerFactory, stop.Token);
            }
            catch (OperationCanceledException) when (stop.Token.IsCancellationRequested)
            {
            }

            return 0;
        });
        return command;
    }
}
