using System.Threading.Channels;

namespace Switchboard.ApiServer.Ui;

/// <summary>
/// One open page's stream and what the hub keeps for it: who it is (<see cref="Access"/>), the Service whose flow it
/// shows, and what it has not been sent yet. Its backlog is a few flushes deep: a page that does not keep up is not sent
/// more frames (nor dropped, which made it reconnect for a fresh snapshot it then fell behind on again). Its object
/// changes are coalesced, one per object, and its trace degrades to the aggregates: once it reads again it gets the
/// latest of every object that changed, and the flow and map as they stand (<see cref="FlowStale"/>,
/// <see cref="MapStale"/>). Used under the hub's lock.
/// </summary>
internal sealed class UiPage(string id, string session, UiAccess access, DateTimeOffset opened)
{
    /// <summary>Frames the page may have unread: about <see cref="UiHub.FlushInterval"/> times this of lag before it is sent only aggregates.</summary>
    public const int Backlog = 4;

    public string Id { get; } = id;

    /// <summary>The session that opened the stream: only it may choose what the stream shows.</summary>
    public string Session { get; } = session;

    public UiAccess Access { get; } = access;

    public DateTimeOffset Opened { get; } = opened;

    public Channel<string> Stream { get; } = Channel.CreateBounded<string>(new BoundedChannelOptions(Backlog) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });

    /// <summary>The Service (namespace/name) whose flow the page shows, if any.</summary>
    public string? Flow { get; set; }

    /// <summary>The flow must be sent whole next time: just chosen, or frames were skipped.</summary>
    public bool FlowStale { get; set; }

    /// <summary>The flow was just chosen: sent whole with the last events kept, not only the newest few.</summary>
    public bool FlowChosen { get; set; }

    /// <summary>The map must be sent whole next time: frames were skipped.</summary>
    public bool MapStale { get; set; }

    /// <summary>Object changes not sent yet, the latest per object.</summary>
    public Dictionary<string, string> Pending { get; } = new(StringComparer.Ordinal);

    /// <summary>Whether the page has room for a frame now.</summary>
    public bool Keeping => Stream.Reader.Count < Backlog;
}
