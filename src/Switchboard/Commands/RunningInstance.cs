using System.Globalization;

namespace Switchboard.Commands;

/// <summary>The pid file through which <c>switchboard down</c> finds the <c>switchboard up</c> of a data dir.</summary>
internal static class RunningInstance
{
    /// <summary>The pid of a live switchboard process recorded in the data dir, or null.</summary>
    public static int? Find(DataDirectory dataDir)
    {
        if (!File.Exists(dataDir.PidFile)
            || !int.TryParse(File.ReadAllText(dataDir.PidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
        {
            return null;
        }

        // A stale file may name a pid the kernel has since given to another program.
        string cmdline = Path.Combine("/proc", pid.ToString(CultureInfo.InvariantCulture), "cmdline");
        return File.Exists(cmdline) && File.ReadAllText(cmdline).Contains("switchboard", StringComparison.Ordinal) ? pid : null;
    }

    public static void Record(DataDirectory dataDir) =>
        File.WriteAllText(dataDir.PidFile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));

    public static void Forget(DataDirectory dataDir) => File.Delete(dataDir.PidFile);
}
