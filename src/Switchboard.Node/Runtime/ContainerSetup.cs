using System.Runtime.InteropServices;
using Switchboard.Node.Sandbox;

namespace Switchboard.Node.Runtime;

/// <summary>
/// What a container gets between its monitor and its program. On the monitor's thread that has joined the pod's
/// namespaces and taken a mount namespace of its own (<see cref="SandboxNamespaces.InPodAsync"/>), with system calls:
/// pivot into the pod's root keeping the host at a private path, bind each volume from there at its mount path
/// (resolved inside the pod's root, so the pod's symlinks apply), read-only if asked, drop the host, create and enter
/// the working directory; the container's process, started from that thread, inherits all of it. Volume mounts of one
/// container are never seen by another, as with a container runtime. A shell script did this in a dozen programs per
/// container (mkdir, pivot_root, mount, umount, rmdir), each a fork, an exec and a dynamic link.
/// </summary>
internal static partial class ContainerSetup
{
    /// <summary>
    /// Run first in the container's process: joins its cgroups (so its first allocation already counts), then execs.
    /// The pod's root shows no cgroup tree, so the cgroup directories are reached through the root of the monitor host,
    /// a process in the same pid namespace that did not pivot. Arguments: the host's pid, the cgroup directories
    /// (space-separated), then the program's argv.
    /// </summary>
    public const string JoinCgroupsScript = """
        host=$1 cgroups=$2
        shift 2
        for d in $cgroups; do echo $$ > "/proc/$host/root$d/cgroup.procs" || exit; done
        exec "$@"
        """;

    /// <summary>statvfs's ST_NOSUID, ST_NODEV and ST_NOEXEC, which are also mount(2)'s MS_ flags of those names.</summary>
    private const ulong KeptOnRemount = MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec;

    /// <summary>Where f_flag sits in glibc's 64-bit struct statvfs: after nine 8-byte fields.</summary>
    private const int StatvfsFlagIndex = 9;

    /// <summary>Sets the calling thread (alone in its mount namespace and filesystem view) up as the container's.</summary>
    public static void EnterRoot(string root, IReadOnlyList<ContainerMount> mounts, string workingDir)
    {
        string host = "/.sb-host-" + Environment.CurrentManagedThreadId;
        Directory.CreateDirectory(root + host);
        SandboxNamespaces.Check(PivotRoot(root, root + host), "pivot_root " + root);
        SandboxNamespaces.Check(ChangeDirectory("/"), "chdir /");
        foreach (var mount in mounts)
        {
            string source = host + mount.Source;
            if (Directory.Exists(source))
            {
                Directory.CreateDirectory(mount.Target);
            }
            else
            {
                Directory.CreateDirectory(Path.GetDirectoryName(mount.Target)!);
                if (!Path.Exists(mount.Target))
                {
                    File.WriteAllBytes(mount.Target, []);
                }
            }

            SandboxNamespaces.Mount(source, mount.Target, null, MountFlags.Bind | MountFlags.Rec, null);
            if (mount.ReadOnly)
            {
                // A bind's remount sets every flag anew: the source's nosuid, nodev and noexec are kept, as mount(8) keeps them.
                SandboxNamespaces.Mount(null, mount.Target, null, MountFlags.Remount | MountFlags.Bind | MountFlags.ReadOnly | (FlagsOf(mount.Target) & KeptOnRemount), null);
            }
        }

        SandboxNamespaces.Detach(host);
        Directory.Delete(host);
        Directory.CreateDirectory(workingDir);
        SandboxNamespaces.Check(ChangeDirectory(workingDir), "chdir " + workingDir);
    }

    private static ulong FlagsOf(string path)
    {
        Span<ulong> buffer = stackalloc ulong[32];
        SandboxNamespaces.Check(StatVfs(path, ref MemoryMarshal.GetReference(buffer)), "statvfs " + path);
        return buffer[StatvfsFlagIndex];
    }

    [LibraryImport("libc", EntryPoint = "pivot_root", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int PivotRoot(string newRoot, string putOld);

    [LibraryImport("libc", EntryPoint = "chdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int ChangeDirectory(string path);

    [LibraryImport("libc", EntryPoint = "statvfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatVfs(string path, ref ulong buffer);
}
