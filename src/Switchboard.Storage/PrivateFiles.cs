using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Switchboard.Storage;

/// <summary>
/// The data dir and the secrets in it (store, CA and serving keys, admin token, kubeconfig), kept from other local
/// users. The directory is made 0700 and refused when another user owns it or group or others may write in it:
/// whoever could would plant a known token, or a symlink that makes us overwrite a file of their choosing. A file is
/// written whole into a temp file that is 0600 from its creation (O_EXCL, so never through a symlink), fsynced,
/// renamed over the old one (a symlink there is replaced, not followed) and the directory fsynced: a reader sees
/// the old content or the new, never a torn or world-readable one, even after a crash.
/// </summary>
public static partial class PrivateFiles
{
    /// <summary>rw for the owner only.</summary>
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>rwx for the owner only.</summary>
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;
    private const int SymlinkType = 0xA000;
    private const int FileTypeMask = 0xF000;

    /// <summary>
    /// Creates <paramref name="path"/> 0700 when missing (parents too) and checks that it, and a symlink naming it,
    /// belong to the user running us and that neither group nor others may write in it.
    /// </summary>
    /// <exception cref="UnsafeDirectoryException">The directory is someone else's or writable by others.</exception>
    public static void EnsureDirectory(string path)
    {
        CreateDirectory(path);
        uint user = GetEffectiveUserId();
        var link = Stat(path, followSymlink: false);
        if ((link.Mode & FileTypeMask) == SymlinkType && link.Uid != user)
        {
            throw new UnsafeDirectoryException(
                $"data dir {path} is a symlink owned by uid {link.Uid}, not by the user running switchboard (uid {user}): whoever owns it chooses where secrets go; remove it or choose another --data-dir");
        }

        var target = Stat(path, followSymlink: true);
        if (target.Uid != user)
        {
            throw new UnsafeDirectoryException(
                $"data dir {path} is owned by uid {target.Uid}, not by the user running switchboard (uid {user}): its owner could read or plant its secrets; remove it or choose another --data-dir");
        }

        var writable = (UnixFileMode)target.Mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite);
        if (writable != UnixFileMode.None)
        {
            string mode = Convert.ToString(target.Mode & 0x1ff, 8).PadLeft(4, '0');
            throw new UnsafeDirectoryException(
                $"data dir {path} has mode {mode}, writable by {(writable.HasFlag(UnixFileMode.OtherWrite) ? "others" : "its group")}: they could plant a token or a symlink; run `chmod 700 {path}` or choose another --data-dir");
        }
    }

    /// <summary>Replaces <paramref name="path"/> with <paramref name="content"/> (UTF-8), atomically and durably, readable by its owner only.</summary>
    public static void Write(string path, string content)
    {
        ArgumentNullException.ThrowIfNull(content);
        Write(path, Encoding.UTF8.GetBytes(content));
    }

    /// <summary>Replaces <paramref name="path"/> with <paramref name="content"/>, atomically and durably, readable by its owner only.</summary>
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string temporary = path + ".tmp";

        // A temp file left by a crash goes first; unlink removes a symlink itself, never its target.
        File.Delete(temporary);
        using (var stream = new FileStream(temporary, CreateNew))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>Creates <paramref name="path"/> empty and 0600 unless it exists (a file another program then opens, as SQLite its database).</summary>
    public static void CreateIfMissing(string path)
    {
        try
        {
            new FileStream(path, CreateNew).Dispose();
        }
        catch (IOException) when (File.Exists(path) || Directory.Exists(path))
        {
            // It was there already; its owner made it.
        }
    }

    /// <summary>Opens <paramref name="path"/> for reading and writing, creating it 0600 when missing.</summary>
    public static FileStream OpenOrCreate(string path, FileShare share) =>
        new(path, Options(System.IO.FileMode.OpenOrCreate, FileAccess.ReadWrite, share));

    /// <summary>Creates <paramref name="path"/> (and missing parents) 0700, without checking who owns one that exists.</summary>
    public static void CreateDirectory(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        Directory.CreateDirectory(path, DirectoryMode);
    }

    private static FileStreamOptions CreateNew => Options(System.IO.FileMode.CreateNew, FileAccess.Write, FileShare.None);

    /// <summary>Options that create a file 0600: the mode is the open(2)'s, so no other user can open it between its creation and a chmod.</summary>
    private static FileStreamOptions Options(System.IO.FileMode mode, FileAccess access, FileShare share)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }

        return options;
    }

    /// <summary>fsync(2) of a directory, so a rename in it survives a crash.</summary>
    private static void SyncDirectory(string directory)
    {
        int fd = OpenNative(directory, 0);
        if (fd < 0)
        {
            throw new IOException($"open {directory}: errno {Marshal.GetLastPInvokeError()}");
        }

        try
        {
            if (FsyncNative(fd) != 0)
            {
                throw new IOException($"fsync {directory}: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        finally
        {
            _ = CloseNative(fd);
        }
    }

    private static StatxBuffer Stat(string path, bool followSymlink)
    {
        if (StatxNative(AtFdCwd, path, followSymlink ? 0 : AtSymlinkNoFollow, StatxBasicStats, out var buffer) != 0)
        {
            throw new IOException(string.Create(CultureInfo.InvariantCulture, $"statx {path}: errno {Marshal.GetLastPInvokeError()}"));
        }

        return buffer;
    }

    /// <summary>The user id files we create get, compared with a directory's owner.</summary>
    public static uint GetEffectiveUserId() => GetEuidNative();

    /// <summary>struct statx: the same layout on every Linux architecture, which struct stat is not.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(20)]
        public uint Uid;

        [FieldOffset(28)]
        public ushort Mode;
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatxNative(int directoryFd, string path, int flags, uint mask, out StatxBuffer buffer);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuidNative();

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenNative(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FsyncNative(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int CloseNative(int fd);
}
