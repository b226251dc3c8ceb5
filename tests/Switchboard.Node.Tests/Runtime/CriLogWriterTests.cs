using System.Text;
using Switchboard.Node.Runtime;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Runtime;

public sealed class CriLogWriterTests
{
    [Fact]
    public async Task Lines_become_full_records_and_a_missing_final_newline_a_partial_one()
    {
        using var dir = new TempDirectory();
        string output = dir.File("0.log");
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2016, 10, 6, 0, 17, 9, 669, TimeSpan.Zero).AddTicks(7942));
        using (var writer = new CriLogWriter(Unrotated(output, time), time))
        {
            await writer.CopyAsync(new MemoryStream(Encoding.UTF8.GetBytes("hello\nworld\ntail")), "stdout");
        }

        Assert.Equal(
            "2016-10-06T00:17:09.6697942Z stdout F hello\n2016-10-06T00:17:09.6697942Z stdout F world\n2016-10-06T00:17:09.6697942Z stdout P tail\n",
            File.ReadAllText(output));
    }

    [Fact]
    public async Task A_line_over_16_KiB_is_split_into_partial_records()
    {
        using var dir = new TempDirectory();
        string output = dir.File("0.log");
        using (var writer = new CriLogWriter(Unrotated(output, TimeProvider.System), TimeProvider.System))
        {
            await writer.CopyAsync(new MemoryStream(Encoding.UTF8.GetBytes(new string('x', CriLogWriter.MaxLine + 10) + "\n")), "stderr");
        }

        string[] records = File.ReadAllText(output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, records.Length);
        Assert.Contains(" stderr P ", records[0], StringComparison.Ordinal);
        Assert.EndsWith(" stderr F xxxxxxxxxx", records[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Timestamps_are_Go_RFC3339Nano()
    {
        Assert.Equal("2024-01-02T03:04:05Z", CriLogWriter.Timestamp(new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero)));
        Assert.Equal("2024-01-02T03:04:05.5Z", CriLogWriter.Timestamp(new DateTimeOffset(2024, 1, 2, 3, 4, 5, 500, TimeSpan.Zero)));
    }

    private static RotatingLogFile Unrotated(string path, TimeProvider time) => new(path, maxBytes: long.MaxValue, maxFiles: 2, time);
}
