using System.Diagnostics;

namespace Switchboard.Node.Runtime;

/// <summary>
/// Starts long-lived processes (pod holders, container monitors) in sessions of their own, stdio on a log file, so
/// they outlive a restart of the agent (which adopts them) and never write to a pipe the agent has closed.
/// </summary>
internal static class Detached
{
    // sh execs setsid, which execs the program: the pid returned is the program's own.
    private const string Launcher = "exec >\"$0\" 2>&1 </dev/null; exec setsid \"$@\"";

    /// <summary>Starts <paramref name="argv"/> detached, with the agent's environment plus <paramref name="environment"/>; returns its pid.</summary>
    public static int Start(string logFile, IEnumerable<string> argv, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(Launcher);
        info.ArgumentList.Add(logFile);
        foreach (string arg in argv)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start /bin/sh");
        return process.Id;
    }
}
