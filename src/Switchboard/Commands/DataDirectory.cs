using Microsoft.Extensions.Logging;
using Switchboard.Storage;

namespace Switchboard.Commands;

/// <summary>The files Switchboard keeps in its data directory.</summary>
internal sealed partial class DataDirectory(DirectoryInfo root)
{
    public string Path => root.FullName;

    /// <summary>The embedded SQLite store.</summary>
    public string StoreFile => System.IO.Path.Combine(Path, "state.db");

    /// <summary>The process id of the running <c>switchboard up</c>, so <c>switchboard down</c> can stop it.</summary>
    public string PidFile => System.IO.Path.Combine(Path, "switchboard.pid");

    /// <summary>Creates the directory 0700, or logs why the one there is refused (another user's, or writable by others).</summary>
    public bool TryCreate(ILogger logger)
    {
        try
        {
            PrivateFiles.EnsureDirectory(Path);
            return true;
        }
        catch (UnsafeDirectoryException e)
        {
            LogRefused(logger, e.Message);
            return false;
        }
    }

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "{Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);
}
