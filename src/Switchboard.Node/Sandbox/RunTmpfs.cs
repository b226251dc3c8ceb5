using System.Runtime.InteropServices;

namespace Switchboard.Node.Sandbox;

/// <summary>
/// The node's directory under /run, on a tmpfs: /run is one on most systems, and where it is not (these machines keep
/// /run on the root's ext4) the node mounts a tmpfs of its own there, as <c>ip netns</c> mounts /run/netns, and
/// unmounts it when the node is torn down.
/// </summary>
internal static partial class RunTmpfs
{
    private const long TmpfsMagic = 0x01021994;

    /// <summary>Creates <paramref name="directory"/>, its owner's alone, on a tmpfs.</summary>
    public static void Ensure(string directory)
    {
        Volumes.FileCalls.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (FilesystemType(directory) != TmpfsMagic)
        {
            SandboxNamespaces.Mount("tmpfs", directory, "tmpfs", MountFlags.NoSuid | MountFlags.NoDev, "mode=0700,size=256m");
        }
    }

    /// <summary>Unmounts the tmpfs <see cref="Ensure"/> mounted at <paramref name="directory"/>, if it did, and deletes the directory.</summary>
    public static void Remove(string directory)
    {
        SandboxNamespaces.DetachIfMounted(directory);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>statfs(2)'s f_type, the first word of struct statfs on 64-bit Linux.</summary>
    private static long FilesystemType(string path)
    {
        Span<long> buffer = stackalloc long[32];
        SandboxNamespaces.Check(StatFs(path, ref MemoryMarshal.GetReference(buffer)), "statfs " + path);
        return buffer[0];
    }

    [LibraryImport("libc", EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatFs(string path, ref long buffer);
}
