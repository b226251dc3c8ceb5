using System.Runtime.InteropServices;

namespace Switchboard.Node.Runtime;

/// <summary>kill(2) on processes and process groups; liveness by /proc.</summary>
internal static partial class Signals
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    /// <summary>Signals the process group <paramref name="pgid"/> (a container runs as its own group); false if it is gone.</summary>
    public static bool KillGroup(int pgid, int signal) => Kill(-pgid, signal) == 0;

    public static bool KillProcess(int pid, int signal) => Kill(pid, signal) == 0;

    /// <summary>Whether <paramref name="pid"/> runs and started at <paramref name="startTicks"/> (field 22 of /proc/PID/stat), so a reused pid is not mistaken for it.</summary>
    public static bool IsAlive(int pid, long startTicks) => StartTicks(pid) == startTicks;

    /// <summary>The process's start time in clock ticks since boot, or -1 if it is gone (or a zombie).</summary>
    public static long StartTicks(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[0] == "Z" ? -1 : long.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return -1;
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
