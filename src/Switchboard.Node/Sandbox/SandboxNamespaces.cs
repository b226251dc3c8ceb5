using System.Runtime.InteropServices;

namespace Switchboard.Node.Sandbox;

/// <summary>
/// Makes a pod's namespaces from the agent itself, with system calls instead of a dozen processes (ip netns add,
/// nsenter, unshare, a shell and its mounts cost some 16 execs a pod): a thread of its own unshares a network namespace
/// and pins it at /run/netns/NAME as <c>ip netns add</c> does, wires it (the caller's part), then unshares mount and UTS namespaces, mounts the pod's
/// root (the host's root read-only beneath an overlay of the pod's own, /dev, /dev/shm, /proc, a /sys of the pod's
/// network namespace, the pod's hosts/resolv.conf/hostname bound in), sets the hostname and starts the holder, which
/// inherits the thread's namespaces and keeps them for the pod's lifetime. The thread then ends: no other work ever
/// runs in those namespaces.
/// </summary>
internal static partial class SandboxNamespaces
{
    private const string NetnsDirectory = "/run/netns";
    private const int CloneFs = 0x200;
    private const int CloneNewNs = 0x20000;
    private const int CloneNewUts = 0x04000000;
    private const int CloneNewNet = 0x40000000;
    private const int MntDetach = 2;
    private const int ENoEnt = 2;
    private const int EInval = 22;
    private static readonly Lock SharedDirectory = new();
    private static bool _directoryShared;

    /// <summary>
    /// Creates the network namespace <paramref name="netns"/> and has <paramref name="wire"/> connect it (called inside it),
    /// then the pod's mount and UTS namespaces, mounts the pod's root at <paramref name="sandbox"/>'s root directory, and
    /// returns what <paramref name="startHolder"/> (called in those namespaces) returned. On failure the network namespace
    /// is removed again.
    /// </summary>
    public static async Task<T> CreateAsync<T>(string netns, PodSandbox sandbox, string hostname, Action wire, Func<T> startHolder)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool pinned = false;
        var thread = new Thread(() =>
        {
            try
            {
                result.SetResult(Create(netns, sandbox, hostname, wire, startHolder, () => pinned = true));
            }
            catch (Exception e)
            {
                result.SetException(e);
            }
        })
        { IsBackground = true, Name = "sandbox " + netns };
        thread.Start();
        try
        {
            return await result.Task;
        }
        catch when (Volatile.Read(ref pinned))
        {
            // Removed from here, in the host's mount namespace: the thread had left it.
            DeleteNetwork(netns);
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="start"/> (a process start: the child inherits the thread's namespaces) on a thread of its own
    /// that has entered the network and UTS namespaces of the pod whose holder is <paramref name="holderPid"/>, and a
    /// mount namespace of its own copied from the holder's (private, so what the container mounts stays its own), as
    /// <c>nsenter -t PID -n -u -m unshare --mount --propagation private</c> did in two processes.
    /// </summary>
    public static Task<T> InPodAsync<T>(int holderPid, Func<T> start) => OnThreadAsync("pod of holder " + holderPid, () =>
    {
        Join(holderPid, [("net", CloneNewNet), ("uts", CloneNewUts), ("mnt", CloneNewNs)]);
        Check(Unshare(CloneNewNs), "unshare(CLONE_NEWNS)");
        Mount(null, "/", null, MountFlags.Rec | MountFlags.Private, null);
        return start();
    });

    /// <summary>
    /// Mounts a tmpfs with <paramref name="options"/> at <paramref name="target"/> in the mount namespace of the pod whose
    /// holder is <paramref name="holderPid"/>, from a thread that joined it: <c>nsenter -m mount -t tmpfs</c> cost two
    /// processes per pod with such a volume (every pod with a service account token has one).
    /// </summary>
    public static Task MountTmpfsAsync(int holderPid, string target, string options) => OnThreadAsync("tmpfs of holder " + holderPid, () =>
    {
        Join(holderPid, [("mnt", CloneNewNs)]);
        Mount("tmpfs", target, "tmpfs", 0, options);
        return 0;
    });

    /// <summary>
    /// Runs <paramref name="body"/> on a thread of its own, with a filesystem view of its own (so it may change
    /// namespaces); the caller's thread, often the pool's, is not held while it runs.
    /// </summary>
    private static Task<T> OnThreadAsync<T>(string name, Func<T> body)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Check(Unshare(CloneFs), "unshare(CLONE_FS)");
                result.SetResult(body());
            }
            catch (Exception e)
            {
                result.SetException(e);
            }
        })
        { IsBackground = true, Name = name };
        thread.Start();
        return result.Task;
    }

    /// <summary>Enters the holder's namespaces of the given kinds, in order.</summary>
    private static void Join(int holderPid, ReadOnlySpan<(string Name, int Type)> namespaces)
    {
        foreach (var (name, type) in namespaces)
        {
            using var handle = File.OpenHandle($"/proc/{holderPid}/ns/{name}");
            Check(SetNs((int)handle.DangerousGetHandle(), type), $"setns({name}) of holder {holderPid}");
        }
    }

    /// <summary>Removes the network namespace <paramref name="netns"/>'s pin (as <c>ip netns del</c>); the namespace ends with its last user.</summary>
    public static void DeleteNetwork(string netns)
    {
        string path = Path.Combine(NetnsDirectory, netns);
        DetachIfMounted(path);
        File.Delete(path);
    }

    private static T Create<T>(string netns, PodSandbox sandbox, string hostname, Action wire, Func<T> startHolder, Action pinned)
    {
        string pin = Path.Combine(NetnsDirectory, netns);
        EnsureSharedDirectory();
        Check(Unshare(CloneNewNet), "unshare(CLONE_NEWNET)");
        using (new FileStream(pin, FileMode.CreateNew, FileAccess.Write))
        {
        }

        pinned();
        Mount("/proc/thread-self/ns/net", pin, null, MountFlags.Bind, null);
        wire();

        // The thread's own filesystem view first: mount namespaces are per fs_struct, which threads share.
        Check(Unshare(CloneFs | CloneNewNs | CloneNewUts), "unshare(CLONE_NEWNS|CLONE_NEWUTS)");
        Mount(null, "/", null, MountFlags.Rec | MountFlags.Private, null);

        // The other pods' network namespace pins, copied with the host's mounts, would keep those namespaces (and
        // their veths) alive as long as this pod lives: the pod's view has none.
        _ = Umount2(NetnsDirectory, MntDetach);
        MountRoot(sandbox);
        byte[] name = System.Text.Encoding.UTF8.GetBytes(hostname);
        Check(SetHostname(name, (nuint)name.Length), "sethostname");
        return startHolder();
    }

    private static void MountRoot(PodSandbox sandbox)
    {
        string root = sandbox.RootDirectory;
        Directory.CreateDirectory(root);
        Directory.CreateDirectory(sandbox.UpperDirectory);
        Directory.CreateDirectory(sandbox.WorkDirectory);
        Mount("overlay", root, "overlay", 0, $"lowerdir=/,upperdir={sandbox.UpperDirectory},workdir={sandbox.WorkDirectory}");
        Mount("/dev", root + "/dev", null, MountFlags.Bind | MountFlags.Rec, null);
        Mount("shm", root + "/dev/shm", "tmpfs", MountFlags.NoSuid | MountFlags.NoDev, "mode=1777");
        Mount("proc", root + "/proc", "proc", 0, null);
        Mount("sysfs", root + "/sys", "sysfs", 0, null);
        foreach (string file in (string[])["hosts", "resolv.conf", "hostname"])
        {
            // The pod's copy is bound over the host's file where that is a file, leaving the pod's layer as it is (a
            // replaced file costs new inodes on the node's disk: its directory, the file and a whiteout). A symlink
            // (resolv.conf often is one) or no file is replaced by a file of the pod's own first.
            string target = Path.Combine(root, "etc", file);
            if (new FileInfo(target) is not { LinkTarget: null, Exists: true })
            {
                File.Delete(target);
                File.WriteAllBytes(target, []);
            }

            Mount(Path.Combine(sandbox.EtcDirectory, file), target, null, MountFlags.Bind, null);
        }
    }

    /// <summary>
    /// As <c>ip netns add</c>: /run/netns is a mount point of its own with shared propagation, so a namespace pinned there
    /// shows in every mount namespace that copied it and goes from all of them with its removal.
    /// </summary>
    private static void EnsureSharedDirectory()
    {
        lock (SharedDirectory)
        {
            if (_directoryShared)
            {
                return;
            }

            Directory.CreateDirectory(NetnsDirectory);
            if (MountCall(null, NetnsDirectory, null, MountFlags.Shared | MountFlags.Rec, null) != 0)
            {
                Mount(NetnsDirectory, NetnsDirectory, null, MountFlags.Bind | MountFlags.Rec, null);
                Mount(null, NetnsDirectory, null, MountFlags.Shared | MountFlags.Rec, null);
            }

            _directoryShared = true;
        }
    }

    internal static void Mount(string? source, string target, string? type, ulong flags, string? data) =>
        Check(MountCall(source, target, type, flags, data), $"mount {source ?? type ?? ""} on {target}");

    /// <summary>Lazily unmounts <paramref name="target"/> if something is mounted there; a path that is no mount point, or none, is left as it is.</summary>
    internal static void DetachIfMounted(string target)
    {
        if (Umount2(target, MntDetach) != 0 && Marshal.GetLastPInvokeError() is not (EInval or ENoEnt))
        {
            throw Failure("umount " + target);
        }
    }

    /// <summary>Lazily unmounts <paramref name="target"/> and everything beneath it, as <c>umount -l</c>.</summary>
    internal static void Detach(string target) => Check(Umount2(target, MntDetach), "umount " + target);

    /// <summary>Throws, with errno's text, unless a libc call (imported with SetLastError) returned 0.</summary>
    internal static void Check(int result, string what)
    {
        if (result != 0)
        {
            throw Failure(what);
        }
    }

    private static IOException Failure(string what)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new IOException($"{what} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
    }

    [LibraryImport("libc", EntryPoint = "unshare", SetLastError = true)]
    private static partial int Unshare(int flags);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int type);

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MountCall(string? source, string target, string? type, ulong flags, string? data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Umount2(string target, int flags);

    [LibraryImport("libc", EntryPoint = "sethostname", SetLastError = true)]
    private static partial int SetHostname(byte[] name, nuint length);
}
