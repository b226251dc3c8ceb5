using System.CommandLine;
using System.Diagnostics;
using System.Net;
using k8s;
using k8s.Autorest;
using Switchboard.Kube.Client;

namespace Switchboard.Commands;

/// <summary><c>switchboard exec</c>: runs a command inside a pod's network, mount and UTS namespaces on this machine, stdio connected.</summary>
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
        var container = new Option<string?>("--container", "-c") { Description = "The container (all of a pod's containers share its namespaces)" };
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

            if (result.GetValue(container) is { } name && found.Spec.Containers.All(c => c.Name != name))
            {
                await Console.Error.WriteLineAsync($"error: container {name} is not valid for pod {podName}");
                return 1;
            }

            if (await PodProcessAsync(found.Metadata.Uid, cancellationToken) is not { } pid)
            {
                await Console.Error.WriteLineAsync($"error: pod {podNamespace}/{podName} has no sandbox on this machine");
                return 1;
            }

            var info = new ProcessStartInfo("nsenter") { UseShellExecute = false };
            foreach (string arg in (string[])["-t", pid, "-n", "-m", "-u", "--", "sh", "-c", "cd / && exec \"$@\"", "sh", .. result.GetRequiredValue(commandArgs)])
            {
                info.ArgumentList.Add(arg);
            }

            using var process = Process.Start(info) ?? throw new InvalidOperationException("nsenter did not start");
            await process.WaitForExitAsync(cancellationToken);
            return process.ExitCode;
        });
        return command;
    }

    /// <summary>A process of the pod's sandbox: any pid in its network namespace (all share its mount and UTS namespaces).</summary>
    private static async Task<string?> PodProcessAsync(string uid, CancellationToken cancellationToken)
    {
        string? netns = Directory.Exists("/run/netns") ? Directory.EnumerateFiles("/run/netns").Select(Path.GetFileName).FirstOrDefault(n => n!.EndsWith("_" + uid, StringComparison.Ordinal)) : null;
        if (netns is null)
        {
            return null;
        }

        var info = new ProcessStartInfo("ip", ["netns", "pids", netns]) { RedirectStandardOutput = true, UseShellExecute = false };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("ip did not start");
        string output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).OrderBy(p => int.Parse(p, System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
    }
}
