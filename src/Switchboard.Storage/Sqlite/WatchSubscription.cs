using System.Threading.Channels;

namespace Switchboard.Storage.Sqlite;

/// <summary>
/// The live feed of one watcher: a bounded buffer the writer loop offers events to without ever waiting.
/// A full buffer closes the feed instead of slowing the writer.
/// </summary>
internal sealed class WatchSubscription
{
    private readonly Channel<WatchEvent> _events;
    private readonly string _prefix;
    private volatile WatchCloseReason _closeReason;

    public WatchSubscription(string prefix, int capacity)
    {
        _prefix = prefix;
        _events = Channel.CreateBounded<WatchEvent>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public ChannelReader<WatchEvent> Events => _events.Reader;

    /// <summary>Why the feed ended; read once <see cref="Events"/> is drained.</summary>
    public WatchCloseReason CloseReason => _closeReason;

    public bool Matches(string key) => key.StartsWith(_prefix, StringComparison.Ordinal);

    /// <summary>Returns false when the buffer was full and the feed is now closed.</summary>
    public bool Offer(WatchEvent watchEvent)
    {
        if (_closeReason != WatchCloseReason.None)
        {
            return true;
        }

        if (_events.Writer.TryWrite(watchEvent))
        {
            return true;
        }

        Close(WatchCloseReason.Overflow);
        return false;
    }

    public void Close(WatchCloseReason reason)
    {
        if (_closeReason == WatchCloseReason.None)
        {
            _closeReason = reason;
        }

        _events.Writer.TryComplete();
    }
}
