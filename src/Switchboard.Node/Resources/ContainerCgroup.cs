namespace Switchboard.Node.Resources;

/// <summary>
/// A container instance's cgroup: its directory in every hierarchy the node uses (one under v2; memory, cpu and
/// cpuacct under v1), which the container joins before it execs, and the one of them that counts OOM kills.
/// </summary>
internal sealed record ContainerCgroup(IReadOnlyList<string> Directories, string Memory);
