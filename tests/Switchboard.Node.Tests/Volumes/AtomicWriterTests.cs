using System.Text;
using Switchboard.Node.Volumes;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Volumes;

public sealed class AtomicWriterTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Fact]
    public void Files_are_symlinks_through_data_and_an_update_swaps_it_and_drops_removed_names()
    {
        var writer = new AtomicWriter(_dir.Path, TimeProvider.System);
        Assert.True(writer.Write(Payload(("color", "blue"), ("nested/deep", "x")), fsGroup: null));
        string first = new FileInfo(Path.Combine(_dir.Path, "..data")).LinkTarget!;
        Assert.Matches(@"^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+$", first);
        Assert.Equal("..data/color", new FileInfo(Path.Combine(_dir.Path, "color")).LinkTarget);
        Assert.Equal("blue", File.ReadAllText(Path.Combine(_dir.Path, "color")));
        Assert.Equal("x", File.ReadAllText(Path.Combine(_dir.Path, "nested", "deep")));
        Assert.Equal((UnixFileMode)0b110_100_100, new FileInfo(Path.Combine(_dir.Path, first, "color")).UnixFileMode);

        Assert.False(writer.Write(Payload(("color", "blue"), ("nested/deep", "x")), fsGroup: null), "an unchanged payload is not written again");
        Assert.Equal(first, new FileInfo(Path.Combine(_dir.Path, "..data")).LinkTarget);

        Assert.True(writer.Write(Payload(("color", "red")), fsGroup: null));
        string second = new FileInfo(Path.Combine(_dir.Path, "..data")).LinkTarget!;
        Assert.NotEqual(first, second);
        Assert.Equal("red", File.ReadAllText(Path.Combine(_dir.Path, "color")));
        Assert.False(Path.Exists(Path.Combine(_dir.Path, "nested")), "a name no longer in the payload is removed");
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, first)), "the previous timestamped directory is removed");
        Assert.Equal(new[] { "..data", "color", second }.Order(StringComparer.Ordinal), Directory.EnumerateFileSystemEntries(_dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("/abs", "invalid path: must be relative path: /abs")]
    [InlineData("a/../b", "invalid path: must not contain '..': a/../b")]
    [InlineData("..hidden", "invalid path: must not start with '..': ..hidden")]
    public void Paths_kubelet_rejects_are_rejected(string path, string message)
    {
        var writer = new AtomicWriter(_dir.Path, TimeProvider.System);
        Assert.Equal(message, Assert.Throws<InvalidDataException>(() => writer.Write(Payload((path, "v")), fsGroup: null)).Message);
    }

    [Fact]
    public void Labels_format_as_sorted_go_quoted_lines()
    {
        Assert.Equal("a=\"1\"\nb=\"say \\\"hi\\\"\\n\"", Projections.FormatMap(new Dictionary<string, string> { ["b"] = "say \"hi\"\n", ["a"] = "1" }));
        Assert.Equal("\"tab\\there \\x01 é\"", Projections.GoQuote("tab\there \u0001 é"));
    }

    public void Dispose() => _dir.Dispose();

    private static Dictionary<string, FileProjection> Payload(params (string Path, string Content)[] files) =>
        files.ToDictionary(f => f.Path, f => new FileProjection(Encoding.UTF8.GetBytes(f.Content), (UnixFileMode)0b110_100_100));
}
