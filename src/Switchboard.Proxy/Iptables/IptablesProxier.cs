using Microsoft.Extensions.Logging;
using Switchboard.Proxy.Model;

namespace Switchboard.Proxy.Iptables;

/// <summary>
/// Brings one node namespace's iptables to the desired service ports: renders a full or partial restore
/// document (<see cref="IptablesRuleSet"/>), applies it with <c>iptables-restore --noflush</c>, and on full syncs
/// makes sure the built-in chains jump to Switchboard's. A failed apply makes the next sync a full one.
/// </summary>
internal sealed partial class IptablesProxier : IProxier
{
    // kube-proxy's iptablesJumpChains: the only rules written outside restore documents, checked on full syncs.
    private static readonly (string Table, string Chain, string[] Rule)[] Jumps =
    [
        ("filter", "INPUT", ["-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes externally-visible service portals", "-j", IptablesRuleWriter.ExternalServices]),
        ("filter", "FORWARD", ["-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes externally-visible service portals", "-j", IptablesRuleWriter.ExternalServices]),
        ("filter", "FORWARD", ["-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes service portals", "-j", IptablesRuleWriter.Services]),
        ("filter", "OUTPUT", ["-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes service portals", "-j", IptablesRuleWriter.Services]),
        ("nat", "PREROUTING", ["-m", "comment", "--comment", "kubernetes service portals", "-j", IptablesRuleWriter.Services]),
        ("nat", "OUTPUT", ["-m", "comment", "--comment", "kubernetes service portals", "-j", IptablesRuleWriter.Services]),
        ("nat", "POSTROUTING", ["-m", "comment", "--comment", "kubernetes postrouting rules", "-j", IptablesRuleWriter.PostRouting]),
    ];

    private readonly NetnsIptables _iptables;
    private readonly IptablesRuleSet _rules;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public IptablesProxier(NetnsIptables iptables, IptablesOptions options, ILogger<IptablesProxier> logger, TimeProvider time)
    {
        _iptables = iptables;
        _rules = new IptablesRuleSet(options);
        _logger = logger;
        _time = time;
    }

    public async Task<ProxySyncResult> SyncAsync(IReadOnlyList<ServicePortState> desired, CancellationToken cancellationToken)
    {
        long started = _time.GetTimestamp();
        bool full = _rules.NeedsFullSync;
        try
        {
            // Only a full sync reads the kernel: to find chains a previous run left behind.
            var kernelChains = full ? await _iptables.ListChainsAsync("nat", cancellationToken) : [];
            _rules.Render(desired, kernelChains);
            await _iptables.RestoreAsync(_rules.Document.Written, cancellationToken);
            if (full)
            {
                foreach (var (table, chain, rule) in Jumps)
                {
                    await _iptables.EnsureRuleAsync(table, chain, rule, cancellationToken);
                }
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

        var result = new ProxySyncResult(full, _rules.ChangedServicePorts, _rules.Document.Length, _time.GetElapsedTime(started));
        LogSynced(_logger, full ? "full" : "partial", _iptables.Namespace, result.ChangedServicePorts, desired.Count, result.Bytes, result.Duration.TotalMilliseconds);
        return result;
    }

    public void Dispose() => _rules.Dispose();

    [LoggerMessage(EventId = 6002, Level = LogLevel.Debug, Message = "iptables {Kind} sync in {Namespace}: {Changed} of {Total} service ports written, {Bytes} bytes, {Milliseconds:F1} ms")]
    private static partial void LogSynced(ILogger logger, string kind, string @namespace, int changed, int total, int bytes, double milliseconds);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "iptables sync in {Namespace} failed; the next sync is a full one")]
    private static partial void LogSyncFailed(ILogger logger, Exception exception, string @namespace);
}
