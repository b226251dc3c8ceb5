using System.Globalization;
using System.IO.Compression;

namespace Switchboard.Node.Runtime;

/// <summary>
/// A container's log file, rotated by size as kubelet's container log manager does: once a flushed record takes the
/// file to <c>containerLogMaxSize</c>, it is renamed <c>N.log.YYYYMMDD-hhmmss</c> and a new <c>N.log</c> begun; rotated files
/// but the newest are gzipped, and the oldest removed so that at most <c>containerLogMaxFiles</c> remain with the current one.
/// Records are appended whole, so a record never straddles two files.
/// </summary>
internal sealed class RotatingLogFile : IDisposable
{
    private readonly string _path;
    private readonly long _maxBytes;
    private readonly int _maxFiles;
    private readonly TimeProvider _time;
    private FileStream _file;

    public RotatingLogFile(string path, long maxBytes, int maxFiles, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFiles, 2);
        _path = path;
        _maxBytes = maxBytes;
        _maxFiles = maxFiles;
        _time = time;
        _file = Open(path);
    }

    /// <summary>The rotated files of <paramref name="path"/>, oldest first (their names, less .gz, sort by time).</summary>
    public static IReadOnlyList<string> Rotated(string path) =>
        [.. Directory.EnumerateFiles(Path.GetDirectoryName(path)!, Path.GetFileName(path) + ".*", new EnumerationOptions { MatchType = MatchType.Simple })
            .OrderBy(f => f.EndsWith(".gz", StringComparison.Ordinal) ? f[..^3] : f, StringComparer.Ordinal)];

    /// <summary>Appends one record, <paramref name="prefix"/> and <paramref name="line"/> and a newline, flushed; then rotates if the file is full.</summary>
    public void Append(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> line)
    {
        _file.Write(prefix);
        _file.Write(line);
        _file.WriteByte((byte)'\n');
        _file.Flush();
        if (_file.Length >= _maxBytes)
        {
            Rotate();
        }
    }

    public void Dispose() => _file.Dispose();

    private static FileStream Open(string path) => new(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);

    private void Rotate()
    {
        _file.Dispose();
        string stamp = _time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        string target = $"{_path}.{stamp}";
        for (int n = 1; File.Exists(target) || File.Exists(target + ".gz"); n++)
        {
            // Two rotations in one second (a tiny maximum): keep both.
            target = $"{_path}.{stamp}-{n.ToString(CultureInfo.InvariantCulture)}";
        }

        File.Move(_path, target);
        _file = Open(_path);
        var rotated = Rotated(_path);
        foreach (string old in rotated.Where(f => f != target && !f.EndsWith(".gz", StringComparison.Ordinal)))
        {
            Compress(old);
        }

        rotated = Rotated(_path);
        foreach (string excess in rotated.Take(Math.Max(0, rotated.Count - (_maxFiles - 1))))
        {
            File.Delete(excess);
        }
    }

    private static void Compress(string file)
    {
        using (var source = File.OpenRead(file))
        using (var target = new GZipStream(File.Create(file + ".gz"), CompressionLevel.Fastest))
        {
            source.CopyTo(target);
        }

        File.Delete(file);
    }
}
