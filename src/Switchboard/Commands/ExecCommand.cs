using System.CommandLine;
using System.Diagnostics;
using System.Net;
using k8s;
using k8s.Autorest;
using Switchboard.Kube.Client;
using Switchboard.Node.Runtime;

namespace Switchboard.Commands;

/// <summary><c>switchboard exec</c>: runs a command inside a container's network, mount and UTS namespaces on this machine, as its user, stdio connected.</summary>
internal static class ExecCommand
{
    public static Command Create()
    {
        var kubeconfig = new Option<FileInfo>("--kubeconfig")
        {
            Description = "kubeconfig of the API server",
            DefaultValueFactory = _ => new FileInfo("/var/lib/switchboard/kubeconfig"),
        };
        var ns = new Option<string>("--namespace", "-n") { Description = "The pod's namespace", DefaultValueFactory = _ => "default" };
        var container = new Option<string?>("--container", "-c") { Description = "The container (default: the pod's first)" };
        var pod = new Argument<string>("pod");
        var commandArgs = new Argument<string[]>("command") { Arity = ArgumentArity.OneOrMore, Description = "The command and its arguments, after --" };
        var command = new Command("exec", "Run a command inside a pod's namespaces (network, mount, UTS)") { kubeconfig, ns, container, pod, commandArgs };
        command.SetAction(async (result, cancellationToken) =>
        {
            using var client = KubeClients.FromKubeconfig(result.GetRequiredValue(kubeconfig).FullName);
            string podName = result.GetRequiredValue(pod);
            string podNamespace = result.GetRequiredValue(ns);
            k8s.Models.V1Pod found;
            try
            {
                found = await client.CoreV1.ReadNamespacedPodAsync(podName, podNamespace, cancellationToken: cancellationToken);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                await Console.Error.WriteLineAsync($"Error from server (NotFound): pods \"{podName}\" not found");
                return 1;
            }

            string name = result.GetValue(container) ?? found.Spec.Containers[0].Name;
            if (found.Spec.Containers.Concat(found.Spec.InitContainers ?? []).All(c => c.Name != name))
            {
                await Console.Error.WriteLineAsync($"error: container {name} is not valid for pod {podName}");
                return 1;
            }

            if (ContainerProcesses.Find(found.Metadata.Uid, name) is not { } target)
            {
                await Console.Error.WriteLineAsync($"error: container {name} of pod {podNamespace}/{podName} is not running on this machine");
                return 1;
            }

            var info = new ProcessStartInfo("nsenter") { UseShellExecute = false };
            foreach (string arg in (string[])[.. target.NsenterArgs(), "sh", "-c", "cd / && exec \"$@\"", "sh", .. result.GetRequiredValue(commandArgs)])
            {
                info.ArgumentList.Add(arg);
            }

            using var process = Process.Start(info) ?? throw new InvalidOperationException("nsenter did not start");
            await process.WaitForExitAsync(cancellationToken);
            return process.ExitCode;
        });
        return command;
    }
}
