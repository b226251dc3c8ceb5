using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Switchboard.Node.Runtime;

/// <summary>
/// A pseudo-terminal (posix_openpt, grantpt, unlockpt, ptsname_r), for exec -t and containers with <c>tty</c>: the
/// program runs on the slave as its controlling terminal, so the kernel's line discipline gives it echo, line editing,
/// Ctrl-C → SIGINT and CR/LF translation, as under a container runtime's console. The owner reads and writes the master
/// with blocking calls on threads of their own; a read ends (EIO) once no process holds the slave any more.
/// </summary>
internal sealed partial class Pty : IDisposable
{
    private const int ORdWr = 0x2;
    private const int ONoCtty = 0x100;
    private const int OCloExec = 0x80000;
    private const int Eintr = 4;
    private const int Eio = 5;
    private const ulong Tiocswinsz = 0x5414;

    // Stdio on the slave (opened by path, read-write), then setsid --ctty: a new session whose controlling terminal it is.
    private const string Launcher = "exec 0<>\"$0\" 1>&0 2>&0; exec setsid --ctty \"$@\"";

    private readonly SafeFileHandle _master;

    private Pty(SafeFileHandle master, string slavePath)
    {
        _master = master;
        SlavePath = slavePath;
    }

    /// <summary>The slave's path (<c>/dev/pts/N</c>), reachable inside a pod too: its root binds the host's /dev.</summary>
    public string SlavePath { get; }

    /// <summary>Allocates a terminal; the master is close-on-exec, so no child holds it.</summary>
    public static Pty Open()
    {
        var master = PosixOpenpt(ORdWr | ONoCtty | OCloExec);
        if (master.IsInvalid)
        {
            throw new IOException($"posix_openpt failed: errno {Marshal.GetLastPInvokeError()}");
        }

        byte[] name = new byte[128];
        if (Grantpt(master) != 0 || Unlockpt(master) != 0 || PtsnameR(master, name, name.Length) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            master.Dispose();
            throw new IOException($"allocating the pseudo-terminal failed: errno {errno}");
        }

        return new Pty(master, System.Text.Encoding.ASCII.GetString(name, 0, Array.IndexOf(name, (byte)0)));
    }

    /// <summary>
    /// The argv that runs <paramref name="argv"/> with stdin, stdout and stderr on <paramref name="slavePath"/>, in a new
    /// session with that terminal as its controlling one (util-linux setsid --ctty; no launcher of our own to ship):
    /// the pid started is the program's own, as setsid does not fork when the caller leads no process group.
    /// </summary>
    public static IReadOnlyList<string> SessionArgv(string slavePath, IEnumerable<string> argv) =>
        ["/bin/sh", "-c", Launcher, slavePath, .. argv];

    /// <summary>Opens the slave without making it this process's terminal; held while the program runs, so no output is lost at its exit.</summary>
    public SafeFileHandle OpenSlave()
    {
        var slave = OpenPath(SlavePath, ORdWr | ONoCtty | OCloExec);
        return slave.IsInvalid ? throw new IOException($"opening {SlavePath} failed: errno {Marshal.GetLastPInvokeError()}") : slave;
    }

    /// <summary>Reads what the program wrote; 0 once every holder of the slave has closed it.</summary>
    public unsafe int Read(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint read = ReadFd(_master, p, buffer.Length);
                if (read >= 0)
                {
                    return (int)read;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno == Eio)
                {
                    return 0;
                }

                if (errno != Eintr)
                {
                    throw new IOException($"reading the terminal failed: errno {errno}");
                }
            }
        }
    }

    /// <summary>Types <paramref name="data"/> into the terminal (blocks while the line discipline's buffer is full).</summary>
    public unsafe void Write(ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                nint written = WriteFd(_master, p + done, data.Length - done);
                if (written < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Eintr)
                    {
                        continue;
                    }

                    throw new IOException($"writing the terminal failed: errno {errno}");
                }

                done += (int)written;
            }
        }
    }

    /// <summary>Sets the window size (TIOCSWINSZ); the kernel sends SIGWINCH to the terminal's foreground group.</summary>
    public unsafe void Resize(ushort width, ushort height)
    {
        ushort* size = stackalloc ushort[4] { height, width, 0, 0 };
        _ = Ioctl(_master, Tiocswinsz, size);
    }

    public void Dispose() => _master.Dispose();

    [LibraryImport("libc", EntryPoint = "posix_openpt", SetLastError = true)]
    private static partial SafeFileHandle PosixOpenpt(int flags);

    [LibraryImport("libc", EntryPoint = "grantpt", SetLastError = true)]
    private static partial int Grantpt(SafeFileHandle fd);

    [LibraryImport("libc", EntryPoint = "unlockpt", SetLastError = true)]
    private static partial int Unlockpt(SafeFileHandle fd);

    [LibraryImport("libc", EntryPoint = "ptsname_r", SetLastError = true)]
    private static partial int PtsnameR(SafeFileHandle fd, [Out] byte[] buffer, nint length);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial SafeFileHandle OpenPath(string path, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint ReadFd(SafeFileHandle fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint WriteFd(SafeFileHandle fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int Ioctl(SafeFileHandle fd, ulong request, ushort* size);
}
