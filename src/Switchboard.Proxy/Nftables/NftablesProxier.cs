using Microsoft.Extensions.Logging;
using Switchboard.Proxy.Model;
using Switchboard.Proxy.Netlink;

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

    public Task<ProxySyncResult> SyncAsync(IReadOnlyList<ServicePortState> desired, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long started = _time.GetTimestamp();
        bool full = _rules.NeedsFullSync;
        try
        {
            _rules.Render(desired);
            _socket ??= NetlinkSocket.Open(_namespace, NetlinkSocket.NetlinkNetfilter);
            Commit(_rules.Batch);
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

    private void Commit(NftBatch batch)
    {
        _socket!.Send(batch.Written);
        _replies.Clear();
        _socket.DrainReplies(_replies);
        var errors = _replies.Where(r => r.Error != 0).ToList();
        if (errors.Count > 0)
        {
            string first = string.Join("; ", errors.Take(5).Select(r =>
                $"{batch.Describe(r.Sequence)}: {Errno.Name(-r.Error)}{(r.Message is null ? "" : " (" + r.Message + ")")}"));
            throw new NftablesException($"nf_tables transaction in {_namespace} refused, {errors.Count} error(s): {first}");
        }

        if (!_replies.Any(r => r.Sequence == batch.EndSequence))
        {
            throw new NftablesException($"nf_tables transaction in {_namespace} was not committed: no ACK for BATCH_END");
        }

        if (batch.AckEach && _replies.Count != batch.Messages.Count + 1)
        {
            throw new NftablesException($"nf_tables transaction in {_namespace}: {_replies.Count} ACKs for {batch.Messages.Count + 1} messages");
        }
    }

    [LoggerMessage(EventId = 6020, Level = LogLevel.Debug, Message = "nftables {Kind} sync in {Namespace}: {Changed} of {Total} service ports written, {Messages} messages, {Bytes} bytes, {Milliseconds:F1} ms")]
    private static partial void LogSynced(ILogger logger, string kind, string @namespace, int changed, int total, int messages, int bytes, double milliseconds);

    [LoggerMessage(EventId = 6021, Level = LogLevel.Warning, Message = "nftables sync in {Namespace} failed; the next sync is a full one")]
    private static partial void LogSyncFailed(ILogger logger, Exception exception, string @namespace);
}
