namespace Switchboard.Testing;

/// <summary>A fresh directory under the system's temp directory for one test or fixture, removed with everything in it on dispose.</summary>
public sealed class TempDirectory(string prefix = "switchboard-") : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>The path of <paramref name="name"/> inside this directory.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
