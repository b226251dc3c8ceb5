using System.Globalization;
using System.Text.Json;

namespace Switchboard.Node.Sandbox;

/// <summary>
/// A pod's sandbox on the node and as a process: its runtime directory <c>&lt;runtime&gt;/&lt;uid&gt;</c> on a tmpfs (the pod's
/// etc files, its root mount point, its containers' instance dirs, the sandbox record, its tmpfs-backed volumes' mount
/// points), its directory <c>&lt;state&gt;/pods/&lt;uid&gt;</c> on disk (the overlay's upper and work dirs, its other
/// volumes), and the holder, a process
/// that owns the pod's mount and UTS namespaces (inside the pod's network namespace) for as long as the pod lives;
/// containers join them.
/// </summary>
internal sealed class PodSandbox
{
    public PodSandbox(string podsDirectory, string runtimeDirectory, string uid)
    {
        Uid = uid;
        Directory = Path.GetFullPath(Path.Combine(podsDirectory, uid));
        RuntimeDirectory = Path.GetFullPath(Path.Combine(runtimeDirectory, uid));
    }

    public string Uid { get; }

    /// <summary>The pod's directory on disk: kubelet's <c>pods/&lt;uid&gt;</c>.</summary>
    public string Directory { get; }

    /// <summary>The pod's runtime directory, on a tmpfs.</summary>
    public string RuntimeDirectory { get; }

    public string EtcDirectory => Path.Combine(RuntimeDirectory, "etc");

    public string HostsFile => Path.Combine(EtcDirectory, "hosts");

    public string ResolvConf => Path.Combine(EtcDirectory, "resolv.conf");

    public string HostnameFile => Path.Combine(EtcDirectory, "hostname");

    public string RootDirectory => Path.Combine(RuntimeDirectory, "root");

    /// <summary>The pod's root as the agent reaches it: mounted only in the holder's mount namespace, seen through its /proc root.</summary>
    public string RootFromHost(int holderPid) => $"/proc/{holderPid}/root{RootDirectory}";

    /// <summary>Where the pod's volumes live (kubelet's <c>pods/&lt;uid&gt;/volumes</c>); tmpfs-backed ones are mounted in the holder's namespace.</summary>
    public string VolumesDirectory => Path.Combine(Directory, "volumes");

    /// <summary>The mount points of the pod's tmpfs-backed volumes (secret, projected, downwardAPI, emptyDir in memory).</summary>
    public string MemoryVolumesDirectory => Path.Combine(RuntimeDirectory, "volumes");

    public string UpperDirectory => Path.Combine(Directory, "upper");

    public string WorkDirectory => Path.Combine(Directory, "work");

    public string HolderLog => Path.Combine(RuntimeDirectory, "holder.log");

    public string ContainersDirectory => Path.Combine(RuntimeDirectory, "containers");

    private string StateFile => Path.Combine(RuntimeDirectory, "sandbox.json");

    public SandboxState? ReadState()
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(StateFile), Runtime.RuntimeJson.Default.SandboxState);
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void WriteState(SandboxState state)
    {
        string temp = StateFile + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(state, Runtime.RuntimeJson.Default.SandboxState));
        File.Move(temp, StateFile, overwrite: true);
    }

    /// <summary>The instance directory of a container's <paramref name="restartCount"/>th run.</summary>
    public string InstanceDirectory(string container, int restartCount) =>
        Path.Combine(ContainersDirectory, container, restartCount.ToString(CultureInfo.InvariantCulture));
}

/// <summary>What the agent must remember of a sandbox across its own restart.</summary>
internal sealed record SandboxState(string Namespace, string Name, string Ip, int HolderPid, long HolderStartTicks, DateTimeOffset CreatedAt);
