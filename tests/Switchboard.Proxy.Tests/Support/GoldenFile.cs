namespace Switchboard.Proxy.Tests.Support;

/// <summary>
/// Compares text with a file under Golden/. On a mismatch the actual text is written next to the copy in the
/// test output (NAME.actual), so a reviewed change is adopted by copying it over the file in the repository.
/// </summary>
internal static class GoldenFile
{
    public static void AssertMatches(string name, string actual)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Golden", name);
        string expected = File.Exists(path) ? File.ReadAllText(path) : "";
        if (expected != actual)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path + ".actual", actual);
        }

        Assert.True(File.Exists(path), $"Golden/{name} is missing; the rendered text is in {path}.actual");
        Assert.Equal(expected, actual);
    }
}
