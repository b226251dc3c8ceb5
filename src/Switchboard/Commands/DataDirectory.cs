namespace Switchboard.Commands;

/// <summary>The files Switchboard keeps in its data directory.</summary>
internal sealed class DataDirectory(DirectoryInfo root)
{
    public string Path => root.FullName;

    /// <summary>The embedded SQLite store.</summary>
    public string StoreFile => System.IO.Path.Combine(Path, "state.db");

    /// <summary>The process id of the running <c>switchboard up</c>, so <c>switchboard down</c> can stop it.</summary>
    public string PidFile => System.IO.Path.Combine(Path, "switchboard.pid");

    public void Create() => Directory.CreateDirectory(Path);
}
