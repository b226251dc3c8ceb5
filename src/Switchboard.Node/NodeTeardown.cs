using Switchboard.Node.Network;
using Switchboard.Node.Runtime;
using Switchboard.Node.Sandbox;

namespace Switchboard.Node;

/// <summary>Removes everything a node made (for <c>switchboard down</c> and test fixtures): its agent process, container, holder and monitor processes, pod and node namespaces, cgroups, state.</summary>
public static class NodeTeardown
{
    public static async Task RunAsync(NodeOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var names = new NetworkNames(options.ClusterName, options.NodeName);

        // An agent left running by an `up` that died would start its pods again.
        await AgentProcess.KillAsync(options, cancellationToken);
        string podsDirectory = Path.Combine(options.StateDirectory, "pods");
        foreach (string runtimeDirectory in Directory.Exists(options.PodRuntimeDirectory) ? Directory.EnumerateDirectories(options.PodRuntimeDirectory) : [])
        {
            var sandbox = new PodSandbox(podsDirectory, options.PodRuntimeDirectory, Path.GetFileName(runtimeDirectory));
            foreach (string instance in Directory.Exists(sandbox.ContainersDirectory)
                ? Directory.EnumerateDirectories(sandbox.ContainersDirectory).SelectMany(Directory.EnumerateDirectories) : [])
            {
                var files = new InstanceFiles(instance);
                if (files.ReadPid() is { } started)
                {
                    // Its monitor then records the exit; waiting for that keeps it from writing into a deleted tree.
                    var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
                    while (files.ReadExit() is null && DateTime.UtcNow < deadline)
                    {
                        Signals.KillGroup(started.Pid, Signals.SigKill);
                        await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
                    }
                }
            }

            if (sandbox.ReadState() is { } state && Signals.IsAlive(state.HolderPid, state.HolderStartTicks))
            {
                Signals.KillProcess(state.HolderPid, Signals.SigKill);
                while (Signals.IsAlive(state.HolderPid, state.HolderStartTicks))
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
                }
            }
        }

        // Its containers are gone, their exits recorded: the monitor host has nothing left to do.
        if (MonitorHost.Running(options.RuntimeDirectory) is { } host)
        {
            Signals.KillProcess(host.Pid, Signals.SigKill);
            while (Signals.IsAlive(host.Pid, host.StartTicks))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
            }
        }

        string ip = HostTools.Require("ip");
        string list = await CommandRunner.CheckAsync(ip, ["netns", "list"], cancellationToken: cancellationToken);
        string[] ours = [.. list.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0])
            .Where(ns => ns == names.NodeNamespace || ns.StartsWith(names.PodNamespacePrefix, StringComparison.Ordinal))];

        // A holder started just before its agent died has no state file to be found by: whatever still lives in a pod's
        // network namespace goes before the namespace does.
        await NetnsProcesses.KillAllAsync([.. ours.Where(ns => ns != names.NodeNamespace)], cancellationToken);
        foreach (string ns in ours)
        {
            await CommandRunner.RunAsync(ip, ["netns", "del", ns], cancellationToken: cancellationToken);
        }

        if (Resources.Cgroups.Open(options.CgroupRoot, options.ClusterName, options.NodeName, out _) is { } cgroups)
        {
            await cgroups.RemoveAllAsync(cancellationToken);
        }

        RunTmpfs.Remove(options.RunDirectory);
        if (Directory.Exists(options.StateDirectory))
        {
            Directory.Delete(options.StateDirectory, recursive: true);
        }
    }
}
