using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Switchboard.Storage;

namespace Switchboard.Commands;

/// <summary>
/// The pid file through which <c>switchboard down</c> finds the <c>switchboard up</c> of a data dir. <c>up</c> holds an
/// exclusive flock on it for as long as it runs and records its pid and its start time (field 22 of /proc/PID/stat,
/// which a later process given the same pid does not share). <c>down</c> believes the file only when that pid holds
/// the lock on this very file and started when it says: a pid file left by <c>kill -9</c> is unlocked, and a process
/// that has reused the pid neither holds the lock nor shares the start time, so it is never signalled.
/// </summary>
internal sealed partial class RunningInstance : IDisposable
{
    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;

    private readonly FileStream _file;
    private readonly string _path;

    private RunningInstance(FileStream file, string path)
    {
        _file = file;
        _path = path;
    }

    /// <summary>Takes the data dir's pid file for this process, or returns null with the pid recorded there when another process holds it.</summary>
    public static RunningInstance? TryStart(DataDirectory dataDir, out int? holder)
    {
        holder = null;
        FileStream file;
        try
        {
            // FileStream takes a shared flock on what it opens for writing; ours is upgraded to exclusive below.
            file = PrivateFiles.OpenOrCreate(dataDir.PidFile, FileShare.ReadWrite);
        }
        catch (IOException)
        {
            holder = Read(dataDir)?.Pid;
            return null;
        }

        if (FlockNative(file.SafeFileHandle, LockExclusive | LockNonBlocking) != 0)
        {
            file.Dispose();
            holder = Read(dataDir)?.Pid;
            return null;
        }

        string record = string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId} {StartTime(Environment.ProcessId)}\n");
        file.SetLength(0);
        file.Write(System.Text.Encoding.ASCII.GetBytes(record));
        file.Flush(flushToDisk: true);
        return new RunningInstance(file, dataDir.PidFile);
    }

    /// <summary>
    /// The process that really is <c>switchboard up</c> for the data dir, as a pidfd taken before it was checked (so a
    /// pid reused after the check still names the checked process), or null with why not.
    /// </summary>
    public static SafeFileHandle? Find(DataDirectory dataDir, out int? pid, out string reason)
    {
        pid = null;
        if (Read(dataDir) is not { } record)
        {
            reason = File.Exists(dataDir.PidFile) ? "its pid file does not hold a pid and a start time (a stale pid file)" : "no pid file";
            return null;
        }

        pid = record.Pid;
        var process = PidfdOpen(record.Pid, 0);
        if (process.IsInvalid)
        {
            process.Dispose();
            reason = $"pid {record.Pid} of the pid file is not running (a stale pid file)";
            return null;
        }

        if (StartTime(record.Pid) != record.StartTime)
        {
            process.Dispose();
            reason = $"pid {record.Pid} of the pid file is another process now (its start time differs)";
            return null;
        }

        if (!HoldsLock(record.Pid, record.KernelPath))
        {
            process.Dispose();
            reason = $"pid {record.Pid} of the pid file does not hold its lock (a stale pid file)";
            return null;
        }

        reason = "";
        return process;
    }

    /// <summary>Removes the pid file, then lets go of its lock.</summary>
    public void Dispose()
    {
        File.Delete(_path);
        _file.Dispose();
    }

    /// <summary>The pid and start time in the pid file, read without a lock of our own (a FileStream would take one and fail while up holds its).</summary>
    /// <remarks>The file's path as the kernel names it (symlinks resolved) is what a holder's /proc/PID/fd link shows.</remarks>
    private static (int Pid, long StartTime, string KernelPath)? Read(DataDirectory dataDir)
    {
        using var handle = OpenNative(dataDir.PidFile, 0);
        if (handle.IsInvalid)
        {
            return null;
        }

        string kernelPath = new FileInfo(string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{handle.DangerousGetHandle()}")).LinkTarget ?? dataDir.PidFile;

        using var stream = new FileStream(handle, FileAccess.Read);
        using var reader = new StreamReader(stream);
        string[] fields = reader.ReadToEnd().Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return fields.Length == 2
            && int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
            && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long startTime)
            ? (pid, startTime, kernelPath)
            : null;
    }

    /// <summary>When the process started, in clock ticks after boot (field 22 of /proc/PID/stat), or -1 when it is gone.</summary>
    private static long StartTime(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/stat"));
        }
        catch (IOException)
        {
            return -1;
        }

        // The command name (field 2) is in parentheses and may hold spaces: fields are counted after its last ')'.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[22 - 3], CultureInfo.InvariantCulture);
    }

    /// <summary>Whether <paramref name="pid"/> has <paramref name="path"/> open with an exclusive flock on it (its fdinfo's <c>lock:</c> line).</summary>
    private static bool HoldsLock(int pid, string path)
    {
        string fds = string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/fd");
        try
        {
            foreach (string fd in Directory.EnumerateFileSystemEntries(fds))
            {
                if (new FileInfo(fd).LinkTarget == path
                    && File.ReadLines(Path.Combine($"/proc/{pid}/fdinfo", Path.GetFileName(fd))).Any(l => l.StartsWith("lock:", StringComparison.Ordinal) && l.Contains("FLOCK", StringComparison.Ordinal) && l.Contains("WRITE", StringComparison.Ordinal)))
                {
                    return true;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone meanwhile, or not ours to look at: not a holder we can vouch for.
        }

        return false;
    }

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int FlockNative(SafeFileHandle fd, int operation);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial SafeFileHandle OpenNative(string path, int flags);

    [LibraryImport("libc", EntryPoint = "pidfd_open", SetLastError = true)]
    private static partial SafeFileHandle PidfdOpen(int pid, uint flags);
}
