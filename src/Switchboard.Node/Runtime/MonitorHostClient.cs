using System.Net.Sockets;
using System.Text;

namespace Switchboard.Node.Runtime;

/// <summary>
/// The agent's side of the <see cref="MonitorHost"/>: hands it container instances over its socket, starting the host
/// (detached, so it outlives the agent) when none answers: at the first container, or after an idle host has ended.
/// </summary>
internal sealed class MonitorHostClient(IReadOnlyList<string> selfCommand, string runtimeDirectory, TimeProvider time)
{
    private static readonly TimeSpan HandOverTimeout = TimeSpan.FromSeconds(15);

    // For switchboard run as IL by dotnet (the tests' build; the published executable is native code and has no JIT).
    // The host does most of its work at start-up: tier 0 takes a fifth less of the whole than fully optimised code.
    // Call counting is off, so no method is compiled again at a higher tier: the host's work per container is small,
    // and the tiering's background compiler took most of its CPU as containers started (bench/node-cost.sh 20: 41 ms
    // of it per pod with call counting, 14 ms without).
    private static readonly Dictionary<string, string> HostEnvironment = new(StringComparer.Ordinal)
    {
        ["DOTNET_TieredCompilation"] = "1",
        ["DOTNET_TC_CallCounting"] = "0",
    };

    private readonly SemaphoreSlim _starting = new(1, 1);
    private (int Pid, long StartTicks)? _started;

    /// <summary>Whether a host runs (one this agent started and that has not named itself yet counts).</summary>
    public bool HostAlive => MonitorHost.Running(runtimeDirectory) is not null || (_started is { } s && Signals.IsAlive(s.Pid, s.StartTicks));

    /// <summary>What the host printed (why it failed, when it did).</summary>
    public string HostLog()
    {
        string log = MonitorHost.LogFile(runtimeDirectory);
        return File.Exists(log) ? File.ReadAllText(log).Trim() : "no output";
    }

    /// <summary>Has the host run the instance in <paramref name="instanceDirectory"/> (its spec written); returns once the host has taken it.</summary>
    public async Task HandOverAsync(string instanceDirectory, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + HandOverTimeout;
        var poll = new PollBackoff(TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(20));
        while (!await TrySendAsync(instanceDirectory, cancellationToken))
        {
            if (time.GetUtcNow() > deadline)
            {
                throw new InvalidOperationException("container monitor failed: " + HostLog());
            }

            await EnsureHostAsync(cancellationToken);
            await Task.Delay(poll.Next(), time, cancellationToken);
        }
    }

    /// <summary>
    /// Keeps a host running for as long as this agent runs, as kubelet's container runtime runs beside it: the host
    /// counts a held connection as work, so it never ends idle under a live agent, and the first pods after a quiet
    /// spell do not wait for a .NET start (0.3-0.6 s on a busy machine, bench/node.sh). Calls <paramref name="held"/>
    /// each time a hold is in place; a host that ends (killed) is started again. Returns when
    /// <paramref name="cancellationToken"/> is cancelled, which lets the host go (it ends once idle).
    /// </summary>
    public async Task HoldHostAsync(Action held, CancellationToken cancellationToken)
    {
        var retry = new PollBackoff(TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(2));
        try
        {
            while (true)
            {
                await EnsureHostAsync(cancellationToken);
                if (await TryRequestAsync(MonitorHost.HoldRequest, cancellationToken) is { } hold)
                {
                    using (hold)
                    {
                        held();
                        retry = new PollBackoff(TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(2));
                        // The host writes nothing more: the read returns when it ends.
                        await WaitForCloseAsync(hold, cancellationToken);
                    }
                }

                await Task.Delay(retry.Next(), time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task<bool> TrySendAsync(string instanceDirectory, CancellationToken cancellationToken)
    {
        using var accepted = await TryRequestAsync(instanceDirectory, cancellationToken);
        return accepted is not null;
    }

    /// <summary>Sends <paramref name="request"/> (one line) to the host; the connection once the host answered "ok", else null.</summary>
    private async Task<Socket?> TryRequestAsync(string request, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            AttachFrames.WithSocketPath(runtimeDirectory, MonitorHost.SocketName, endPoint =>
            {
                socket.Connect(endPoint);
                return 0;
            });
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            await stream.WriteAsync(Encoding.UTF8.GetBytes(request + "\n"), cancellationToken);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            if (await reader.ReadLineAsync(cancellationToken) == "ok")
            {
                return socket;
            }
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            // No host yet, or one that is ending: refused, reset or closed unanswered.
        }

        socket.Dispose();
        return null;
    }

    private static async Task WaitForCloseAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[1];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken) > 0)
            {
            }
        }
        catch (SocketException)
        {
            // Reset: the host is gone all the same.
        }
    }

    /// <summary>Starts a host unless one runs (another pod's start may have just started it).</summary>
    private async Task EnsureHostAsync(CancellationToken cancellationToken)
    {
        await _starting.WaitAsync(cancellationToken);
        try
        {
            if (!HostAlive)
            {
                Directory.CreateDirectory(runtimeDirectory);
                int pid = Detached.Start(MonitorHost.LogFile(runtimeDirectory), [.. selfCommand, "runtime", "monitor", runtimeDirectory], HostEnvironment);
                _started = (pid, Signals.StartTicks(pid));
            }
        }
        finally
        {
            _starting.Release();
        }
    }
}
