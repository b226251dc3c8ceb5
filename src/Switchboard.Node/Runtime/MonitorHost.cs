using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Switchboard.Node.Runtime;

/// <summary>
/// The node's container monitor process: one per node, not one per container, so a pod start costs no .NET start-up
/// of its own (a monitor process spent some 0.12 s of CPU starting, each, and its memory). It runs in a session of its
/// own, as the per-container monitors did, so it outlives the agent, which adopts its containers; it runs each
/// container handed to it (<see cref="MonitorHostClient"/> over <c>monitor.sock</c> in the node's runtime directory) as
/// <see cref="ContainerMonitor"/> does, and ends once it has run no container, nor been held by a running agent, for
/// <see cref="IdleTimeout"/>. An
/// exclusive lock on <c>monitor.lock</c> keeps it alone; <c>monitor.pid</c> names it to the agent and the teardown.
/// </summary>
public static class MonitorHost
{
    public const string SocketName = "monitor.sock";

    /// <summary>The request line of an agent that keeps the host running while its connection stays open (<see cref="MonitorHostClient.HoldHostAsync"/>).</summary>
    internal const string HoldRequest = "hold";

    /// <summary>How long the host stays without a container before it ends.</summary>
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long a new host waits for an ending one to let go of the lock.</summary>
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan IdleCheck = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The host's pid and start time (<see cref="Signals.StartTicks"/>), as the file in <paramref name="runtimeDirectory"/> names them; null when none runs.</summary>
    internal static (int Pid, long StartTicks)? Running(string runtimeDirectory)
    {
        try
        {
            string[] parts = File.ReadAllText(PidFile(runtimeDirectory)).Split(' ');
            int pid = int.Parse(parts[0], CultureInfo.InvariantCulture);
            long ticks = long.Parse(parts[1], CultureInfo.InvariantCulture);
            return Signals.IsAlive(pid, ticks) ? (pid, ticks) : null;
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    internal static string LogFile(string runtimeDirectory) => Path.Combine(runtimeDirectory, "monitor.log");

    private static string PidFile(string runtimeDirectory) => Path.Combine(runtimeDirectory, "monitor.pid");

    /// <summary>Serves <paramref name="runtimeDirectory"/>'s socket until idle; returns the process's exit code.</summary>
    public static async Task<int> RunAsync(string runtimeDirectory)
    {
        Directory.CreateDirectory(runtimeDirectory);
        using var exclusive = await LockAsync(Path.Combine(runtimeDirectory, "monitor.lock"));
        if (exclusive is null)
        {
            await Console.Error.WriteLineAsync("another monitor host holds the lock");
            return 1;
        }

        string socketPath = Path.Combine(runtimeDirectory, SocketName);
        File.Delete(socketPath);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        AttachFrames.WithSocketPath(runtimeDirectory, SocketName, endPoint =>
        {
            listener.Bind(endPoint);
            return 0;
        });
        listener.Listen(512);
        int self = Environment.ProcessId;
        string pidFile = PidFile(runtimeDirectory);
        File.WriteAllText(pidFile + ".tmp", $"{self} {Signals.StartTicks(self)}");
        File.Move(pidFile + ".tmp", pidFile, overwrite: true);

        // Connections being read and containers running; the host ends only at zero, so a request it accepted is never lost.
        int busy = 0;
        long idleSince = Environment.TickCount64;
        while (true)
        {
            using var wait = new CancellationTokenSource(IdleCheck);
            Socket connection;
            try
            {
                connection = await listener.AcceptAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                if (Volatile.Read(ref busy) == 0 && Environment.TickCount64 - Volatile.Read(ref idleSince) > IdleTimeout.TotalMilliseconds)
                {
                    break;
                }

                continue;
            }

            Interlocked.Increment(ref busy);
            _ = Task.Run(async () =>
            {
                try
                {
                    await ServeAsync(connection);
                }
                finally
                {
                    Volatile.Write(ref idleSince, Environment.TickCount64);
                    Interlocked.Decrement(ref busy);
                }
            });
        }

        // A client that connects from now on finds no socket (or a refused one) and starts a new host, which waits for the lock.
        File.Delete(socketPath);
        File.Delete(pidFile);
        return 0;
    }

    /// <summary>Reads one instance directory, acknowledges it and runs that container to its end; or a hold, kept until the agent lets go.</summary>
    private static async Task ServeAsync(Socket connection)
    {
        string instanceDirectory;
        using (connection)
        {
            try
            {
                await using var stream = new NetworkStream(connection, ownsSocket: false);
                using var reader = new StreamReader(stream, Encoding.UTF8);
                using var timeout = new CancellationTokenSource(RequestTimeout);
                string? line = await reader.ReadLineAsync(timeout.Token);
                if (line == HoldRequest)
                {
                    await stream.WriteAsync("ok\n"u8.ToArray());
                    // Held (counted busy) until the agent closes the connection, or its process ends.
                    while (await stream.ReadAsync(new byte[1]) > 0)
                    {
                    }

                    return;
                }

                if (string.IsNullOrEmpty(line) || !File.Exists(new InstanceFiles(line).Spec))
                {
                    return;
                }

                instanceDirectory = line;
                await stream.WriteAsync("ok\n"u8.ToArray());
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
                // The agent went away before handing anything over; it retries.
                return;
            }
        }

        var files = new InstanceFiles(instanceDirectory);
        try
        {
            await ContainerMonitor.RunAsync(instanceDirectory);
        }
        catch (Exception e)
        {
            // What a per-container monitor's crash printed goes where the agent looks for it; the container, if it started, ends with no monitor.
            await File.WriteAllTextAsync(files.MonitorLog, e.ToString());
            if (files.ReadPid() is null && files.ReadExit() is null)
            {
                files.WriteExit(new ExitRecord(128, DateTimeOffset.UtcNow, "StartError", e.Message));
            }
        }
    }

    /// <summary>Takes <paramref name="path"/> exclusively (FileShare.None is a flock on Linux), waiting for a host that is ending; null if it never frees.</summary>
    private static async Task<FileStream?> LockAsync(string path)
    {
        long deadline = Environment.TickCount64 + (long)LockTimeout.TotalMilliseconds;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (Environment.TickCount64 < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20));
            }
            catch (IOException)
            {
                return null;
            }
        }
    }
}
