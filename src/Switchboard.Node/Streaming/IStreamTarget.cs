namespace Switchboard.Node.Streaming;

/// <summary>
/// What a remote-command session drives: exec's new process or attach's running container. Input calls come from one
/// pump, in the order the client sent them, never from the socket's reader.
/// </summary>
internal interface IStreamTarget : IAsyncDisposable
{
    ValueTask WriteInputAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>The client closed its stdin (v5's <c>[255,0]</c>).</summary>
    ValueTask CloseInputAsync(CancellationToken cancellationToken);

    ValueTask ResizeAsync(ushort width, ushort height, CancellationToken cancellationToken);

    /// <summary>Copies the output to <paramref name="session"/> until it ends; returns the exit code to report (0 for an attach that ended).</summary>
    Task<int> RunAsync(ChannelSession session, CancellationToken cancellationToken);
}
