namespace Switchboard.Storage.Tests.Sqlite;

/// <summary>A directory under /tmp for one test's store files, removed afterwards.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "switchboard-sqlite-" + Guid.NewGuid().ToString("N"));

    public string StorePath => System.IO.Path.Combine(Path, "store.db");

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
