using Microsoft.Extensions.Logging;
using Switchboard.Kube.Netlink;
using Switchboard.Proxy.Model;

namespace Switchboard.Proxy.Nftables;

/// <summary>
/// kube-proxy's nftables mode, spoken to the kernel as nf_tables netlink from a socket opened in the node's namespace:
/// every sync is one transaction (<see cref="NftablesRuleSet"/>), the first a full one that replaces the table, the
/// later ones only the elements and chains that changed. Every reply is checked; an error names the message it
/// answers and makes the next sync a full one.
/// </summary>
internal sealed partial class NftablesProxier : IProxier
{
    private readonly string _namespace;
    private readonly NftablesRuleSet _rules;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly List<NetlinkReply> _replies = [];
    private NetlinkSocket? _socket;

    public NftablesProxier(string networkNamespace, string? clusterCidr, ILogger<NftablesProxier> logger, TimeProvider time)
    {
        _namespace = networkNamespace;
        _rules = new NftablesRuleSet(clusterCidr);
        _logger = logger;
        _time = time;
    }

    /// <summary>The transaction of the last sync, for tests that look at what was sent.</summary>
    internal NftBatch LastBatch => _rules.Batch;

    /// <summary>What is programmed for the service port whose <see cref="ServicePortState.ServiceChain"/> is <paramref name="serviceChain"/>.</summary>
    internal NftServicePort? Programmed(string serviceChain) => _rules.Programmed(serviceChain);

    public Task<ProxySyncResult> SyncAsync(IReadOnlyList<ServicePortState> desired, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long started = _time.GetTimestamp();
        bool full = _rules.NeedsFullSync;
        try
        {
            _rules.Render(desired);
            _socket ??= NetlinkSocket.Open(_namespace, NetlinkSocket.NetlinkNetfilter);
            _rules.Batch.Commit(_socket, _namespace, _replies);
            _rules.Applied();
        }
        catch (Exception e)
        {
            _rules.Failed();
            // A socket whose replies were lost (ENOBUFS) would answer the next batch with stale ones.
            _socket?.Dispose();
            _socket = null;
            LogSyncFailed(_logger, e, _namespace);
            throw;
        }

        var result = new ProxySyncResult(full, _rules.ChangedServicePorts, _rules.Batch.Bytes, _time.GetElapsedTime(started));
        LogSynced(_logger, full ? "full" : "partial", _namespace, result.ChangedServicePorts, desired.Count, _rules.Batch.Messages.Count, result.Bytes, result.Duration.TotalMilliseconds);
        return Task.FromResult(result);
    }

    public void Dispose()
    {
        _socket?.Dispose();
        _rules.Dispose();
    }

    [LoggerMessage(EventId = 6020, Level = LogLevel.Debug, Message = "nftables {Kind} sync in {Namespace}: {Changed} of {Total} service ports written, {Messages} messages, {Bytes} bytes, {Milliseconds:F1} ms")]
    private static partial void LogSynced(ILogger logger, string kind, string @namespace, int changed, int total, int messages, int bytes, double milliseconds);

    [LoggerMessage(EventId = 6021, Level = LogLevel.Warning, Message = "nftables sync in {Namespace} failed; the next sync is a full one")]
    private static partial void LogSyncFailed(ILogger logger, Exception exception, string @namespace);
}
