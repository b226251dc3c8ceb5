using System.Runtime.InteropServices;

namespace Switchboard.Node.Volumes;

/// <summary>The POSIX calls volume writing needs and .NET does not expose as such: rename of a symlink over another, chmod and lchown (portable in .NET only on Unix anyway).</summary>
internal static partial class FileCalls
{
    /// <summary>rename(2): atomic, and it moves a symlink itself (never what it points to).</summary>
    public static void Rename(string from, string to)
    {
        if (RenameNative(from, to) != 0)
        {
            throw new IOException($"rename {from} {to}: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Sets the group of <paramref name="path"/> (not following a symlink), keeping its owner.</summary>
    public static void ChangeGroup(string path, long group)
    {
        if (Lchown(path, uint.MaxValue, checked((uint)group)) != 0)
        {
            throw new IOException($"lchown {path}: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>chmod(2): the mode exactly, whatever the umask.</summary>
    public static void Chmod(string path, UnixFileMode mode)
    {
        if (ChmodNative(path, (uint)mode) != 0)
        {
            throw new IOException($"chmod {path}: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Creates the directory (and its parents) and gives it <paramref name="mode"/>.</summary>
    public static void CreateDirectory(string path, UnixFileMode mode)
    {
        Directory.CreateDirectory(path);
        Chmod(path, mode);
    }

    [LibraryImport("libc", EntryPoint = "chmod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int ChmodNative(string path, uint mode);

    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameNative(string from, string to);

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Lchown(string path, uint owner, uint group);
}
