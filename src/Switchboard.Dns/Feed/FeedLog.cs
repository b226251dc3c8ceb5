using Microsoft.Extensions.Logging;

namespace Switchboard.Dns.Feed;

internal static partial class FeedLog
{
    [LoggerMessage(EventId = 3060, Level = LogLevel.Information, Message = "DNS synced with the API: {Namespaces} namespaces, {Services} services, {Slices} endpoint slices")]
    public static partial void Synced(ILogger logger, int namespaces, int services, int slices);
}
