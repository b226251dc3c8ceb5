using Microsoft.Extensions.Logging;
using Switchboard.Proxy.Model;

namespace Switchboard.Proxy.Iptables;

/// <summary>
/// Brings one node namespace's iptables to the desired service ports: renders a full or partial restore
/// document (<see cref="IptablesRuleSet"/>) and applies it with <c>iptables-restore --noflush</c>. A full sync first
/// reads the kernel's rules back (<c>iptables-save</c>) and writes only what differs, so a restart on a node whose
/// rules are right rewrites nothing. Between full syncs the canary chains are looked for every
/// <see cref="IptablesOptions.CanaryInterval"/>: when someone flushed a table the next sync is a full one, which
/// repairs it. A failed apply also makes the next sync a full one.
/// </summary>
internal sealed partial class IptablesProxier : IProxier
{
    private static readonly string[] CanaryTables = ["mangle", "nat", "filter"];

    private readonly NetnsIptables _iptables;
    private readonly IptablesOptions _options;
    private readonly IptablesRuleSet _rules;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private long _canaryChecked;

    public IptablesProxier(NetnsIptables iptables, IptablesOptions options, ILogger<IptablesProxier> logger, TimeProvider time)
    {
        _iptables = iptables;
        _options = options;
        _rules = new IptablesRuleSet(options);
        _logger = logger;
        _time = time;
    }

    public async Task<ProxySyncResult> SyncAsync(IReadOnlyList<ServicePortState> desired, CancellationToken cancellationToken)
    {
        long started = _time.GetTimestamp();
        if (!_rules.NeedsFullSync && _time.GetElapsedTime(_canaryChecked) >= _options.CanaryInterval)
        {
            await CheckCanariesAsync(cancellationToken);
        }

        bool full = _rules.NeedsFullSync;
        try
        {
            var kernel = full ? SavedRules.Parse(await _iptables.SaveAsync(cancellationToken)) : null;
            _rules.Render(desired, kernel);
            if (_rules.HasChanges)
            {
                await _iptables.RestoreAsync(_rules.Document.Written, cancellationToken);
            }

            _rules.Applied();
        }
        catch (Exception e)
        {
            // Whatever reached the kernel is unknown now, also when cancelled half-way.
            _rules.Failed();
            if (e is not OperationCanceledException)
            {
                LogSyncFailed(_logger, e, _iptables.Namespace);
            }

            throw;
        }

        if (full)
        {
            // A full sync wrote the canaries (or found them).
            _canaryChecked = _time.GetTimestamp();
        }

        var result = new ProxySyncResult(full, _rules.ChangedServicePorts, _rules.HasChanges ? _rules.Document.Length : 0, _time.GetElapsedTime(started))
        {
            TableRules = [new("filter", _rules.FilterRules), new("nat", _rules.NatRules)],
        };
        LogSynced(_logger, full ? "full" : "partial", _iptables.Namespace, result.ChangedServicePorts, desired.Count, result.Bytes, result.Duration.TotalMilliseconds);
        return result;
    }

    public void Dispose() => _rules.Dispose();

    private async Task CheckCanariesAsync(CancellationToken cancellationToken)
    {
        _canaryChecked = _time.GetTimestamp();
        foreach (string table in CanaryTables)
        {
            if (!await _iptables.ChainExistsAsync(table, IptablesRuleWriter.Canary, cancellationToken))
            {
                LogCanaryMissing(_logger, table, _iptables.Namespace);
                _rules.Failed();
                return;
            }
        }
    }

    [LoggerMessage(EventId = 6002, Level = LogLevel.Debug, Message = "iptables {Kind} sync in {Namespace}: {Changed} of {Total} service ports rendered, {Bytes} bytes written, {Milliseconds:F1} ms")]
    private static partial void LogSynced(ILogger logger, string kind, string @namespace, int changed, int total, int bytes, double milliseconds);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "iptables sync in {Namespace} failed; the next sync is a full one")]
    private static partial void LogSyncFailed(ILogger logger, Exception exception, string @namespace);

    [LoggerMessage(EventId = 6030, Level = LogLevel.Warning, Message = "the canary chain of the {Table} table in {Namespace} is gone (the table was flushed); syncing in full")]
    private static partial void LogCanaryMissing(ILogger logger, string table, string @namespace);
}
