using System.IO.Compression;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Switchboard.Node.Runtime;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Runtime;

public sealed class RotatingLogFileTests
{
    [Fact]
    public async Task A_full_log_is_rotated_older_rotations_gzipped_and_at_most_max_files_kept()
    {
        using var dir = new TempDirectory();
        string path = dir.File("0.log");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        const int lines = 400;
        using (var writer = new CriLogWriter(new RotatingLogFile(path, maxBytes: 2000, maxFiles: 3, time), time))
        {
            for (int i = 0; i < lines; i++)
            {
                await writer.CopyAsync(new MemoryStream(Encoding.ASCII.GetBytes($"line {i}\n")), "stdout");
                time.Advance(TimeSpan.FromMilliseconds(250));
            }
        }

        var rotated = RotatingLogFile.Rotated(path);
        Assert.Equal(2, rotated.Count);
        Assert.EndsWith(".gz", rotated[0], StringComparison.Ordinal);
        Assert.Matches(@"0\.log\.2026010\d-\d{6}$", rotated[1]);
        Assert.True(new FileInfo(path).Length < 2000, "the current file is below the maximum");

        // Oldest to newest, the kept records are consecutive lines ending with the last one written.
        string all = Gunzip(rotated[0]) + File.ReadAllText(rotated[1]) + File.ReadAllText(path);
        int[] numbers = [.. all.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(r => int.Parse(r[(r.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture))];
        Assert.Equal(lines - 1, numbers[^1]);
        Assert.Equal(Enumerable.Range(numbers[0], numbers.Length), numbers);
        Assert.True(numbers[0] > 0, "the oldest rotations were removed");
    }

    [Fact]
    public void Removing_older_instances_keeps_the_previous_and_current_logs()
    {
        using var dir = new TempDirectory();
        foreach (string name in (string[])["0.log", "0.log.20260102-030405.gz", "1.log", "1.log.20260102-030406", "2.log", "10.log"])
        {
            File.WriteAllText(dir.File(name), name);
        }

        ContainerLogs.RemoveBefore(dir.Path, 1);

        Assert.Equal(["1.log", "1.log.20260102-030406", "10.log", "2.log"], Directory.EnumerateFiles(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    private static string Gunzip(string file)
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(file), CompressionMode.Decompress));
        return reader.ReadToEnd();
    }
}
