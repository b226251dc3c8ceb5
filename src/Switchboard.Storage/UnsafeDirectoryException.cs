namespace Switchboard.Storage;

/// <summary>A data dir that another user owns or may write in: refused at start, with the reason and the fix in its message.</summary>
public sealed class UnsafeDirectoryException : IOException
{
    public UnsafeDirectoryException()
    {
    }

    public UnsafeDirectoryException(string message)
        : base(message)
    {
    }

    public UnsafeDirectoryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
