using System.Globalization;
using Switchboard.Node.Runtime;

namespace Switchboard.Node;

/// <summary>
/// The record of a <c>switchboard agent</c> process in its node's state dir, <c>agent.pid</c> (<c>PID STARTTICKS</c>):
/// an agent whose <c>up</c> died is stopped by <c>switchboard down</c> before it removes the node (the start time
/// keeps a pid reused since from being signalled).
/// </summary>
public static class AgentProcess
{
    public static string PidFile(NodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Path.Combine(options.StateDirectory, "agent.pid");
    }

    /// <summary>Records this process as node <paramref name="options"/>'s agent.</summary>
    public static void Record(NodeOptions options)
    {
        Directory.CreateDirectory(options.StateDirectory);
        string path = PidFile(options);
        int pid = Environment.ProcessId;
        File.WriteAllText(path + ".tmp", string.Create(CultureInfo.InvariantCulture, $"{pid} {Signals.StartTicks(pid)}\n"));
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>
    /// Asks agent process <paramref name="pid"/> to stop (SIGTERM), as a machine's service manager stops kubelet: it
    /// ends its watches and leaves its pods running for the next agent to adopt. False if it is gone.
    /// </summary>
    public static bool Terminate(int pid) => Signals.KillProcess(pid, Signals.SigTerm);

    /// <summary>Kills the recorded agent if it still runs, and waits until it has gone.</summary>
    internal static async Task KillAsync(NodeOptions options, CancellationToken cancellationToken)
    {
        string path = PidFile(options);
        string[] fields = File.Exists(path) ? File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];
        if (fields.Length != 2 || !int.TryParse(fields[0], CultureInfo.InvariantCulture, out int pid) || !long.TryParse(fields[1], CultureInfo.InvariantCulture, out long started))
        {
            return;
        }

        while (Signals.IsAlive(pid, started))
        {
            Signals.KillProcess(pid, Signals.SigKill);
            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
        }
    }
}
