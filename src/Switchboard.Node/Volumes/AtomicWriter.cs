using System.Globalization;

namespace Switchboard.Node.Volumes;

/// <summary>
/// Kubelet's AtomicWriter (pkg/volume/util/atomic_writer.go): the files of a volume live in a hidden timestamped
/// directory <c>..2006_01_02_15_04_05.NNN</c>; <c>..data</c> is a symlink to it; each visible top-level name is a
/// symlink through <c>..data</c>. An update writes a new timestamped directory and renames a new <c>..data</c> over
/// the old one, so a reader sees the old set of files or the new one, never a mix. Names starting with <c>..</c> are reserved.
/// </summary>
internal sealed class AtomicWriter(string targetDirectory, TimeProvider time)
{
    private const string DataDirectory = "..data";
    private const string NewDataDirectory = "..data_tmp";
    private const UnixFileMode DirectoryMode = (UnixFileMode)0b111_101_101;

    /// <summary>Projects <paramref name="payload"/> (relative path → file); returns false when the volume already held it.</summary>
    public bool Write(IReadOnlyDictionary<string, FileProjection> payload, long? fsGroup)
    {
        foreach (string path in payload.Keys)
        {
            Validate(path);
        }

        string dataPath = Path.Combine(targetDirectory, DataDirectory);
        string? oldTimestamped = new FileInfo(dataPath).LinkTarget;
        var stale = new HashSet<string>(StringComparer.Ordinal);
        if (oldTimestamped is not null)
        {
            string oldPath = Path.Combine(targetDirectory, oldTimestamped);
            var visible = payload.Keys.Select(TopLevel).ToHashSet(StringComparer.Ordinal);
            stale.UnionWith(Directory.Exists(oldPath) ? Directory.EnumerateFileSystemEntries(oldPath).Select(e => Path.GetFileName(e)).Where(n => !visible.Contains(n)) : []);
            if (stale.Count == 0 && payload.All(p => Same(Path.Combine(oldPath, p.Key), p.Value)))
            {
                return false;
            }
        }

        string timestamped = Path.Combine(targetDirectory, time.GetUtcNow().UtcDateTime.ToString("..yyyy_MM_dd_HH_mm_ss.", CultureInfo.InvariantCulture)
            + Random.Shared.Next(100_000_000, 1_000_000_000).ToString(CultureInfo.InvariantCulture));
        FileCalls.CreateDirectory(timestamped, DirectoryMode);
        foreach (var (path, file) in payload)
        {
            string full = Path.Combine(timestamped, path);
            FileCalls.CreateDirectory(Path.GetDirectoryName(full)!, DirectoryMode);
            File.WriteAllBytes(full, file.Data);
            FileCalls.Chmod(full, file.Mode);
        }

        if (fsGroup is { } group)
        {
            Ownership.Apply(timestamped, group, readOnly: true);
        }

        foreach (string name in payload.Keys.Select(TopLevel).Distinct(StringComparer.Ordinal))
        {
            string visible = Path.Combine(targetDirectory, name);
            if (new FileInfo(visible).LinkTarget is null)
            {
                File.CreateSymbolicLink(visible, Path.Combine(DataDirectory, name));
            }
        }

        string newData = Path.Combine(targetDirectory, NewDataDirectory);
        File.Delete(newData);
        File.CreateSymbolicLink(newData, Path.GetFileName(timestamped));
        FileCalls.Rename(newData, dataPath);
        foreach (string name in stale)
        {
            File.Delete(Path.Combine(targetDirectory, name));
        }

        if (oldTimestamped is not null && Directory.Exists(Path.Combine(targetDirectory, oldTimestamped)))
        {
            Directory.Delete(Path.Combine(targetDirectory, oldTimestamped), recursive: true);
        }

        return true;
    }

    private static string TopLevel(string path) => path.Split('/')[0];

    private static bool Same(string path, FileProjection file)
    {
        return File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(file.Data);
    }

    /// <summary>Kubelet's validatePath: relative, no <c>..</c> element, not starting with <c>..</c>, names ≤ 255, paths ≤ 4096.</summary>
    private static void Validate(string path)
    {
        if (path.Length == 0)
        {
            throw new InvalidDataException("invalid path: must not be empty: \"\"");
        }

        if (path.StartsWith('/'))
        {
            throw new InvalidDataException($"invalid path: must be relative path: {path}");
        }

        if (path.Length > 4096)
        {
            throw new InvalidDataException("invalid path: must be less than or equal to 4096 characters");
        }

        string[] items = path.Split('/');
        if (items.Contains(".."))
        {
            throw new InvalidDataException($"invalid path: must not contain '..': {path}");
        }

        if (items.Any(i => i.Length > 255))
        {
            throw new InvalidDataException("invalid path: filenames must be less than or equal to 255 characters");
        }

        if (items[0].StartsWith("..", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"invalid path: must not start with '..': {path}");
        }
    }
}
