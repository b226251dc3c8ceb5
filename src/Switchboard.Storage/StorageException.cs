namespace Switchboard.Storage;

/// <summary>A failure of <see cref="IKeyValueStore"/> with a code the caller can act on.</summary>
public sealed class StorageException : Exception
{
    public StorageException(StorageError error, string message, string? key = null, KeyValue? current = null, long revision = 0, Exception? innerException = null)
        : base(message, innerException)
    {
        Error = error;
        Key = key;
        Current = current;
        Revision = revision;
    }

    public StorageError Error { get; }

    /// <summary>The key the operation was about, if any.</summary>
    public string? Key { get; }

    /// <summary>For <see cref="StorageError.RevisionMismatch"/> and <see cref="StorageError.KeyExists"/>: the key's current value.</summary>
    public KeyValue? Current { get; }

    /// <summary>
    /// For <see cref="StorageError.Compacted"/>: the compacted revision; for <see cref="StorageError.FutureRevision"/>: the
    /// current revision; for <see cref="StorageError.WatchCanceled"/>: the last revision delivered.
    /// </summary>
    public long Revision { get; }
}
