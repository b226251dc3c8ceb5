using System.Net;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.Node.Network;
using Switchboard.Node.Resources;
using Switchboard.Node.Runtime;

namespace Switchboard.Node.Sandbox;

/// <summary>Creates, adopts and removes pod sandboxes: the IP, the network namespace and veth, the etc files and the holder process.</summary>
internal sealed partial class SandboxManager
{
    private readonly NodeNetwork _network;
    private readonly Ipam _ipam;
    private readonly NodeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public SandboxManager(NodeNetwork network, Ipam ipam, Cgroups? cgroups, NodeOptions options, TimeProvider time, ILogger logger)
    {
        _network = network;
        Cgroups = cgroups;
        _ipam = ipam;
        _options = options;
        _time = time;
        _logger = logger;
        PodsDirectory = Path.Combine(options.StateDirectory, "pods");
        Directory.CreateDirectory(PodsDirectory);
        RunTmpfs.Ensure(options.RunDirectory);
        Directory.CreateDirectory(options.PodRuntimeDirectory);
    }

    public string PodsDirectory { get; }

    /// <summary>The node's cgroups, or null where it cannot enforce limits.</summary>
    public Cgroups? Cgroups { get; }

    public PodSandbox For(string uid) => new(PodsDirectory, _options.PodRuntimeDirectory, uid);

    /// <summary>The name of the pod's network namespace, pinned under /run/netns.</summary>
    public string NetworkNamespace(string uid) => _network.Names.PodNamespace(uid);

    /// <summary>The running sandbox of <paramref name="uid"/>, if its holder still lives (after an agent restart too).</summary>
    public (PodSandbox Sandbox, SandboxState State)? Find(string uid)
    {
        var sandbox = For(uid);
        return sandbox.ReadState() is { } state && Signals.IsAlive(state.HolderPid, state.HolderStartTicks) ? (sandbox, state) : null;
    }

    /// <summary>The uids that have a sandbox directory (on disk or at runtime) or a network namespace on this node.</summary>
    public async Task<IReadOnlySet<string>> ListAsync(CancellationToken cancellationToken)
    {
        var uids = new HashSet<string>(Directory.EnumerateDirectories(PodsDirectory).Select(d => Path.GetFileName(d)!), StringComparer.Ordinal);
        uids.UnionWith(Directory.EnumerateDirectories(_options.PodRuntimeDirectory).Select(d => Path.GetFileName(d)!));
        uids.UnionWith(await _network.ListPodUidsAsync(cancellationToken));
        uids.UnionWith(Cgroups?.PodUids() ?? []);
        return uids;
    }

    /// <summary>Creates the sandbox of <paramref name="pod"/> from scratch (anything left of an earlier one is removed first).</summary>
    public async Task<(PodSandbox Sandbox, SandboxState State)> CreateAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        string uid = pod.Metadata.Uid;
        var sandbox = For(uid);
        if (Directory.Exists(sandbox.Directory) || Directory.Exists(sandbox.RuntimeDirectory) || _network.PodNamespaceExists(uid))
        {
            await RemoveAsync(uid, cancellationToken);
        }

        Directory.CreateDirectory(sandbox.EtcDirectory);
        var ip = _ipam.Allocate(uid);
        WriteEtcFiles(sandbox, pod, ip);
        Cgroups?.CreatePod(pod);

        // System calls and rtnetlink from a thread of the agent: no process but the holder.
        var (pid, startTicks) = await SandboxNamespaces.CreateAsync(_network.Names.PodNamespace(uid), sandbox, PodHostname.Hostname(pod), () => _network.ConnectPodHere(uid, ip), () =>
        {
            int holder = Detached.Start(sandbox.HolderLog, ["sleep", "infinity"]);
            return (holder, Signals.StartTicks(holder));
        });
        var state = new SandboxState(pod.Metadata.NamespaceProperty, pod.Metadata.Name, ip.ToString(), pid, startTicks, _time.GetUtcNow());
        sandbox.WriteState(state);
        LogCreated(_logger, pod.Metadata.NamespaceProperty, pod.Metadata.Name, ip.ToString(), pid);
        return (sandbox, state);
    }

    /// <summary>(Re)writes the pod's hosts file, as kubelet does on every container start.</summary>
    public void WriteEtcFiles(PodSandbox sandbox, V1Pod pod, IPAddress ip)
    {
        string dns = _options.ClusterDns.ToString();
        WriteInPlace(sandbox.HostsFile, PodHostname.HostsFile(pod, [ip.ToString()], _options.ClusterDomain));
        WriteInPlace(sandbox.ResolvConf, ResolvConf.Build(pod, dns, _options.ClusterDomain, _options.HostResolvConf));
        WriteInPlace(sandbox.HostnameFile, PodHostname.Hostname(pod) + "\n");
    }

    /// <summary>Kills the holder and whatever else lives in the pod's network namespace (the containers must be stopped already), removes the network namespace and the pod's cgroups, frees the IP and deletes the pod's directories.</summary>
    public async Task RemoveAsync(string uid, CancellationToken cancellationToken)
    {
        var sandbox = For(uid);
        if (sandbox.ReadState() is { } state && Signals.IsAlive(state.HolderPid, state.HolderStartTicks))
        {
            Signals.KillProcess(state.HolderPid, Signals.SigKill);
            while (Signals.IsAlive(state.HolderPid, state.HolderStartTicks))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5), _time, cancellationToken);
            }
        }

        // A holder whose agent died before writing the state, or anything else that entered the pod: once the pin is
        // gone nothing could find them again.
        await NetnsProcesses.KillAllAsync([_network.Names.PodNamespace(uid)], cancellationToken);
        _network.TearDownPod(uid);
        if (Cgroups is not null)
        {
            await Cgroups.RemovePodAsync(uid, cancellationToken);
        }

        _ipam.Release(uid);
        foreach (string directory in (string[])[sandbox.RuntimeDirectory, sandbox.Directory])
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    /// <summary>Deletes the pod's container logs: once the pod object is gone (a finished pod keeps them for kubectl logs).</summary>
    public void RemoveLogs(string uid)
    {
        string logs = Path.Combine(_options.StateDirectory, "logs");
        foreach (string dir in Directory.Exists(logs) ? Directory.EnumerateDirectories(logs, "*_" + uid) : [])
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Rewrites a file bind-mounted into the pod without replacing its inode (a rename would leave the mount on the old file).</summary>
    private static void WriteInPlace(string path, string content)
    {
        using var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write);
        file.SetLength(0);
        file.Write(System.Text.Encoding.UTF8.GetBytes(content));
    }

    [LoggerMessage(EventId = 5008, Level = LogLevel.Information, Message = "Sandbox of pod {Namespace}/{Name} up: IP {Ip}, holder pid {Pid}")]
    private static partial void LogCreated(ILogger logger, string @namespace, string name, string ip, int pid);
}
