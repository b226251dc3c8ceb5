using System.Globalization;
using System.Text.Json;

namespace Switchboard.Node.Runtime;

/// <summary>
/// The files of one container instance, shared by the agent and the instance's monitor: <c>spec.json</c> in,
/// <c>pid</c> (the container's pid, which is also its process group) and <c>exit</c> out. The monitor writes each
/// file whole with a rename, so the agent never reads half of one, before or after its own restart.
/// </summary>
internal sealed class InstanceFiles(string directory)
{
    public string Directory { get; } = directory;

    public string Spec => Path.Combine(Directory, "spec.json");

    public string MonitorLog => Path.Combine(Directory, "monitor.log");

    private string PidFile => Path.Combine(Directory, "pid");

    private string ExitFile => Path.Combine(Directory, "exit");

    /// <summary>The highest run number among a container's instance directories in <paramref name="containerDirectory"/>, or -1 when it has none.</summary>
    public static int LatestRun(string containerDirectory) =>
        System.IO.Directory.Exists(containerDirectory)
            ? System.IO.Directory.EnumerateDirectories(containerDirectory)
                .Select(d => int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : -1).DefaultIfEmpty(-1).Max()
            : -1;

    public void WritePid(int pid, DateTimeOffset startedAt) => WriteAtomically(PidFile, $"{pid} {startedAt.ToUnixTimeMilliseconds()}");

    /// <summary>The container's pid and start time, once the monitor has started it.</summary>
    public (int Pid, DateTimeOffset StartedAt)? ReadPid()
    {
        string? text = ReadOrNull(PidFile);
        if (text is null)
        {
            return null;
        }

        string[] parts = text.Split(' ');
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(parts[1], CultureInfo.InvariantCulture)));
    }

    public void WriteExit(ExitRecord exit) => WriteAtomically(ExitFile, JsonSerializer.Serialize(exit, RuntimeJson.Default.ExitRecord));

    public ExitRecord? ReadExit() => ReadOrNull(ExitFile) is { } text ? JsonSerializer.Deserialize(text, RuntimeJson.Default.ExitRecord) : null;

    private static void WriteAtomically(string path, string content)
    {
        string temp = path + ".tmp";
        File.WriteAllText(temp, content);
        File.Move(temp, path, overwrite: true);
    }

    private static string? ReadOrNull(string path)
    {
        // Looked at every few milliseconds while containers start and run: a missing file costs no exception.
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return File.ReadAllText(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }
}

/// <summary>How a container instance ended: exit code (128+signal for a signal), when, and the runtime's reason.</summary>
internal sealed record ExitRecord(int ExitCode, DateTimeOffset FinishedAt, string Reason, string? Message);
