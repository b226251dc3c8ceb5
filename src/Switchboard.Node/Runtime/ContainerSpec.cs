using System.Text.Json;
using Switchboard.Node.Resources;

namespace Switchboard.Node.Runtime;

/// <summary>What a container monitor runs: written by the agent next to the instance's state files, read by the monitor.</summary>
internal sealed record ContainerSpec
{
    public required IReadOnlyList<string> Argv { get; init; }

    public required IReadOnlyDictionary<string, string> Env { get; init; }

    public required string WorkingDir { get; init; }

    /// <summary>The pod holder whose net, mount and UTS namespaces the container joins.</summary>
    public required int HolderPid { get; init; }

    /// <summary>The pod's root as the holder sees it; the container pivots into it.</summary>
    public required string Root { get; init; }

    /// <summary>The container's volume mounts, sources as the host sees them.</summary>
    public IReadOnlyList<ContainerMount> Mounts { get; init; } = [];

    public required string LogPath { get; init; }

    /// <summary>The size at which the log is rotated (kubelet's containerLogMaxSize).</summary>
    public long LogMaxBytes { get; init; } = NodeOptions.DefaultContainerLogMaxSize;

    /// <summary>How many files of the log are kept, the current one included (kubelet's containerLogMaxFiles).</summary>
    public int LogMaxFiles { get; init; } = NodeOptions.DefaultContainerLogMaxFiles;

    /// <summary>Keep stdin open (stdin/tty containers) instead of giving end-of-file.</summary>
    public bool Stdin { get; init; }

    /// <summary>Run the container on a terminal of its own (spec.tty): its output is one stream, stdout.</summary>
    public bool Tty { get; init; }

    /// <summary>Close the container's stdin when the first attached client closes its stdin (spec.stdinOnce).</summary>
    public bool StdinOnce { get; init; }

    public long? RunAsUser { get; init; }

    public long? RunAsGroup { get; init; }

    /// <summary>The cgroup the container runs in, when the node enforces limits.</summary>
    public ContainerCgroup? Cgroup { get; init; }

    /// <summary>The pod's supplementalGroups and fsGroup: the process's supplementary groups.</summary>
    public IReadOnlyList<long> Groups { get; init; } = [];

    public static ContainerSpec Read(string path) =>
        JsonSerializer.Deserialize(File.ReadAllText(path), RuntimeJson.Default.ContainerSpec) ?? throw new InvalidDataException($"{path} is empty");

    public void Write(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, RuntimeJson.Default.ContainerSpec));
}

/// <summary>A volume bound into a container: <paramref name="Source"/> on the host, <paramref name="Target"/> inside the pod's root.</summary>
internal sealed record ContainerMount(string Source, string Target, bool ReadOnly);
