using System.IO.Pipelines;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Switchboard.Node.Runtime;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Runtime;

/// <summary>The node's log reader over real files the CRI writer wrote and the rotation renamed and gzipped.</summary>
public sealed class CriLogReaderTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public async Task The_whole_log_reads_back_across_rotated_and_gzipped_files_with_partial_records_joined()
    {
        using var dir = new TempDirectory();
        string path = dir.File("0.log");
        await WriteLinesAsync(path, 150);

        Assert.True(RotatingLogFile.Rotated(path).Count(f => f.EndsWith(".gz", StringComparison.Ordinal)) >= 2, "the log spans gzipped rotations");
        string all = await ReadAsync(path, new LogReadOptions(false, false, null, null, null));
        var expected = Enumerable.Range(0, 150).Select(i => $"line {i}").Append("err").Append("abcdef");
        Assert.Equal(string.Join('\n', expected) + "\n", all);
    }

    [Fact]
    public async Task Tail_since_timestamps_and_limit_bytes_cut_as_kubelet()
    {
        using var dir = new TempDirectory();
        string path = dir.File("0.log");
        await WriteLinesAsync(path, 150);

        Assert.Equal("line 149\nerr\nabcdef\n", await ReadAsync(path, new LogReadOptions(false, false, 3, null, null)));
        Assert.Equal("", await ReadAsync(path, new LogReadOptions(false, false, 0, null, null)));
        // One line a second from Start: since Start+147s keeps lines 147 on.
        Assert.Equal("line 147\nline 148\nline 149\nerr\nabcdef\n", await ReadAsync(path, new LogReadOptions(false, false, null, Start.AddSeconds(147), null)));
        Assert.Equal("line 0\nli", await ReadAsync(path, new LogReadOptions(false, false, null, null, 9)));
        Assert.Equal("2026-01-02T03:06:34.000000000Z line 149\n", await ReadAsync(path, new LogReadOptions(false, true, null, Start.AddSeconds(149), 40)));
    }

    [Fact]
    public async Task Following_passes_each_line_on_as_it_is_written_across_rotations_and_ends_with_the_instance()
    {
        using var dir = new TempDirectory();
        string path = dir.File("0.log");
        var time = new FakeTimeProvider(Start);
        bool ended = false;
        var pipe = new Pipe();
        var reader = new CriLogReader(path, new LogReadOptions(true, false, null, null, null), () => Volatile.Read(ref ended), TimeSpan.FromMilliseconds(10), TimeProvider.System);
        var output = pipe.Writer.AsStream();
        var following = Task.Run(async () =>
        {
            await reader.CopyAsync(output, CancellationToken.None);
            await pipe.Writer.CompleteAsync();
        });
        using var lines = new StreamReader(pipe.Reader.AsStream());
        using (var writer = new CriLogWriter(new RotatingLogFile(path, maxBytes: 400, maxFiles: 3, time), time))
        {
            for (int i = 0; i < 40; i++)
            {
                await writer.CopyAsync(new MemoryStream(Encoding.ASCII.GetBytes($"line {i}\n")), "stdout");
                time.Advance(TimeSpan.FromSeconds(1));
                // Each line is read before the next is written: nothing waits for the end or a full buffer.
                Assert.Equal($"line {i}", await lines.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));
            }
        }

        Assert.True(RotatingLogFile.Rotated(path).Count > 0, "the writer rotated while the reader followed");
        Volatile.Write(ref ended, true);
        await following.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(await lines.ReadLineAsync());
    }

    /// <summary>Lines 0..count-1 on stdout one a second, then "err" on stderr and "abc"+"def" as a partial record and its end.</summary>
    private static async Task WriteLinesAsync(string path, int count)
    {
        var time = new FakeTimeProvider(Start);
        using var writer = new CriLogWriter(new RotatingLogFile(path, maxBytes: 1000, maxFiles: 10, time), time);
        for (int i = 0; i < count; i++)
        {
            await writer.CopyAsync(new MemoryStream(Encoding.ASCII.GetBytes($"line {i}\n")), "stdout");
            time.Advance(TimeSpan.FromSeconds(1));
        }

        await writer.CopyAsync(new MemoryStream("err\n"u8.ToArray()), "stderr");
        await writer.CopyAsync(new MemoryStream("abc"u8.ToArray()), "stdout");
        await writer.CopyAsync(new MemoryStream("def\n"u8.ToArray()), "stdout");
    }

    private static async Task<string> ReadAsync(string path, LogReadOptions options)
    {
        using var output = new MemoryStream();
        await new CriLogReader(path, options, () => true, TimeSpan.FromMilliseconds(10), TimeProvider.System).CopyAsync(output, CancellationToken.None);
        return Encoding.ASCII.GetString(output.ToArray());
    }
}
