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
        var command = new Command("controllers", "Run the controllers (deployments, replicasets, scheduler, endpoints, slices, GC, namespaces) alone")
        {
            kubeconfig,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            using var loggerFactory = Logging.CreateFactory();
            string path = result.GetRequiredValue(kubeconfig).FullName;
            return await ComponentHost.RunAsync(loggerFactory, services => services.AddKubeClient(path).AddControllers(new ControllerOptions()));
        });
        return command;
    }
}
