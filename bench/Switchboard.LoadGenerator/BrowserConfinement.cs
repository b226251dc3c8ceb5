using System.Globalization;

namespace Switchboard.LoadGenerator;

/// <summary>
/// Puts the bench's Chromium processes (every <c>chrom*</c> process descended from this one: Playwright's driver starts
/// them) into a cgroup of their own with the least CPU weight the kernel takes (v2 <c>cpu.weight</c> 1, or v1
/// <c>cpu.shares</c> 2), for as long as it is not disposed; disposing moves them back and removes the cgroup. On a
/// 2-core machine the pages' own rendering takes CPU from the server measured beside them whatever the server does:
/// confined, they run only on CPU nothing else wants, so what is left of a drop is the server's cost of being watched.
/// </summary>
internal sealed class BrowserConfinement : IDisposable
{
    private const string Prefix = "switchboard-bench-ui-";
    private readonly string _cgroup;
    private readonly string _parent;

    private BrowserConfinement(string cgroup, string parent, int processes, string how)
    {
        (_cgroup, _parent, Processes, How) = (cgroup, parent, processes, how);
    }

    /// <summary>How many processes were moved.</summary>
    public int Processes { get; }

    /// <summary>The cgroup and the weight it was given, for the bench's output.</summary>
    public string How { get; }

    /// <summary>Confines the browsers; null with the reason when no cpu cgroup can be written here or no browser runs.</summary>
    public static BrowserConfinement? Start(out string problem)
    {
        int[] browsers = [.. Descendants(Environment.ProcessId).Where(pid => Comm(pid)?.StartsWith("chrom", StringComparison.Ordinal) == true)];
        if (browsers.Length == 0)
        {
            problem = "no Chromium process descends from the bench";
            return null;
        }

        // cgroup v2 (with the cpu controller) or the v1 cpu hierarchy, under the cgroup this process is in.
        string[] own = File.ReadAllLines("/proc/self/cgroup");
        string? parent = null;
        string weightFile = "", weight = "";
        if (File.Exists("/sys/fs/cgroup/cgroup.controllers") && File.ReadAllText("/sys/fs/cgroup/cgroup.controllers").Split(' ', '\n').Contains("cpu")
            && own.FirstOrDefault(l => l.StartsWith("0::", StringComparison.Ordinal)) is { } unified)
        {
            (parent, weightFile, weight) = ("/sys/fs/cgroup" + unified[3..], "cpu.weight", "1");
        }
        else if (Directory.Exists("/sys/fs/cgroup/cpu") && own.Select(l => l.Split(':', 3)).FirstOrDefault(f => f.Length == 3 && f[1].Split(',').Contains("cpu")) is { } v1)
        {
            (parent, weightFile, weight) = ("/sys/fs/cgroup/cpu" + v1[2], "cpu.shares", "2");
        }

        if (parent is null)
        {
            problem = "no writable cpu cgroup hierarchy (neither cgroup v2 with the cpu controller nor v1's cpu)";
            return null;
        }

        string cgroup = Path.Combine(parent, Prefix + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        try
        {
            Directory.CreateDirectory(cgroup);
            File.WriteAllText(Path.Combine(cgroup, weightFile), weight);
            var confinement = new BrowserConfinement(cgroup, parent, browsers.Length, $"{cgroup} ({weightFile} {weight})");
            foreach (int pid in browsers)
            {
                Move(pid, cgroup);
            }

            problem = "";
            return confinement;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Release(cgroup, parent);
            problem = $"could not confine the browsers in {cgroup}: {e.Message}";
            return null;
        }
    }

    public void Dispose() => Release(_cgroup, _parent);

    /// <summary>Moves what is in <paramref name="cgroup"/> back to <paramref name="parent"/> and removes it.</summary>
    private static void Release(string cgroup, string parent)
    {
        string procs = Path.Combine(cgroup, "cgroup.procs");
        foreach (string pid in File.Exists(procs) ? File.ReadAllLines(procs) : [])
        {
            Move(int.Parse(pid, CultureInfo.InvariantCulture), parent);
        }

        if (Directory.Exists(cgroup))
        {
            Directory.Delete(cgroup);
        }
    }

    private static void Move(int pid, string cgroup)
    {
        try
        {
            File.WriteAllText(Path.Combine(cgroup, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
        }
        catch (IOException) when (!Directory.Exists($"/proc/{pid}"))
        {
            // It ended meanwhile.
        }
    }

    /// <summary>The processes descended from <paramref name="root"/>, from each one's parent in /proc/PID/stat.</summary>
    private static IEnumerable<int> Descendants(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                int parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                (children.TryGetValue(parent, out List<int>? list) ? list : children[parent] = []).Add(pid);
            }
            catch (IOException)
            {
                // It ended meanwhile.
            }
        }

        var pending = new Stack<int>([root]);
        while (pending.TryPop(out int pid))
        {
            foreach (int child in children.GetValueOrDefault(pid) ?? [])
            {
                yield return child;
                pending.Push(child);
            }
        }
    }

    private static string? Comm(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }
}
