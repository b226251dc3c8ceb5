using Microsoft.Extensions.Logging;
using Switchboard.Kube.Networking;
using Switchboard.Proxy.Model;

namespace Switchboard.Proxy.Userspace;

/// <summary>
/// The userspace mode, for nodes where neither iptables nor nft can be used: every service port is relayed by this
/// process through sockets bound to its cluster IP inside the node's namespace. The cluster IPs are local /32
/// addresses there (<see cref="ClusterIpAddresses"/>), so the kernel delivers them to our sockets with no netfilter
/// rule at all (IP_FREEBIND would allow the bind, but not the delivery to a non-local address). A sync touches only the service
/// ports that changed: their addresses, their listeners and their endpoints; a full sync (at start and after a
/// failure) also reconciles the interface's addresses with the kernel.
/// </summary>
internal sealed partial class UserspaceProxier : IProxier
{
    private readonly string _namespace;
    private readonly ClusterIpAddresses _addresses;
    private readonly UserspaceOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    // By KUBE-SVC chain name, which identifies a service port among all others.
    private readonly Dictionary<string, ServicePortProxy> _ports = new(StringComparer.Ordinal);
    // Cluster IP → how many service ports use it: the address is removed with the last of them.
    private readonly Dictionary<string, int> _addressUsers = new(StringComparer.Ordinal);
    private NetnsDialer? _sockets;
    private bool _needsFullSync = true;

    public UserspaceProxier(string networkNamespace, UserspaceOptions options, ILogger<UserspaceProxier> logger, TimeProvider time)
    {
        _namespace = networkNamespace;
        _addresses = new ClusterIpAddresses(networkNamespace);
        _options = options;
        _logger = logger;
        _time = time;
    }

    public async Task<ProxySyncResult> SyncAsync(IReadOnlyList<ServicePortState> desired, CancellationToken cancellationToken)
    {
        long started = _time.GetTimestamp();
        bool full = _needsFullSync;
        int changed;
        try
        {
            _sockets ??= new NetnsDialer(_namespace);
            var present = full ? await _addresses.EnsureAsync(cancellationToken) : null;
            var (create, update, remove) = Diff(desired, full);
            var (addAddresses, removeAddresses) = present is null ? CountUsers(create, remove) : RecountUsers(desired, present);

            // Closed first, so a port that moved frees its address and port before the new one binds.
            foreach (var proxy in remove)
            {
                _ports.Remove(proxy.State.ServiceChain);
                proxy.Dispose();
            }

            await _addresses.ChangeAsync(addAddresses, removeAddresses, cancellationToken);
            foreach (var state in create)
            {
                var proxy = new ServicePortProxy(state, _sockets, _options, _time, _logger);
                _ports[state.ServiceChain] = proxy;
                await proxy.ApplyAsync(state);
            }

            foreach (var (proxy, state) in update)
            {
                await proxy.ApplyAsync(state);
            }

            _needsFullSync = false;
            changed = create.Count + update.Count + remove.Count;
        }
        catch (Exception e)
        {
            _needsFullSync = true;
            if (e is not OperationCanceledException)
            {
                LogSyncFailed(_logger, e, _namespace);
            }

            throw;
        }

        var result = new ProxySyncResult(full, changed, 0, _time.GetElapsedTime(started));
        LogSynced(_logger, full ? "full" : "partial", _namespace, changed, desired.Count, result.Duration.TotalMilliseconds);
        return result;
    }

    public void Dispose()
    {
        foreach (var proxy in _ports.Values)
        {
            proxy.Dispose();
        }

        _ports.Clear();
        _sockets?.Dispose();
    }

    /// <summary>
    /// Which service ports are new, changed or gone. Unchanged ones are the same instances as last time (the catalog
    /// keeps them), so they cost a reference comparison; a full sync applies every port again, reopening any listener
    /// a failed sync left closed.
    /// </summary>
    private (List<ServicePortState> Create, List<(ServicePortProxy, ServicePortState)> Update, List<ServicePortProxy> Remove) Diff(
        IReadOnlyList<ServicePortState> desired, bool full)
    {
        var create = new List<ServicePortState>();
        var update = new List<(ServicePortProxy, ServicePortState)>();
        var remove = new List<ServicePortProxy>();
        var seen = new HashSet<string>(desired.Count, StringComparer.Ordinal);
        foreach (var state in desired)
        {
            if (!Relayed(state) || !seen.Add(state.ServiceChain))
            {
                continue;
            }

            if (!_ports.TryGetValue(state.ServiceChain, out var proxy))
            {
                create.Add(state);
            }
            else if (!proxy.SameAddresses(state))
            {
                remove.Add(proxy);
                create.Add(state);
            }
            else if (full || !proxy.State.Equals(state))
            {
                update.Add((proxy, state));
            }
        }

        foreach (var (chain, proxy) in _ports)
        {
            if (!seen.Contains(chain))
            {
                remove.Add(proxy);
            }
        }

        return (create, update, remove);
    }

    /// <summary>The address changes of a partial sync: cluster IPs whose first user appears or whose last one goes.</summary>
    private (List<string> Add, List<string> Remove) CountUsers(List<ServicePortState> create, List<ServicePortProxy> remove)
    {
        var add = new List<string>();
        var removed = new List<string>();
        foreach (var proxy in remove)
        {
            string ip = proxy.State.ClusterIp;
            if (--_addressUsers[ip] == 0)
            {
                _addressUsers.Remove(ip);
                removed.Add(ip);
            }
        }

        foreach (var state in create)
        {
            int users = _addressUsers.GetValueOrDefault(state.ClusterIp);
            _addressUsers[state.ClusterIp] = users + 1;
            // A port that moved to another port number keeps its address: neither removed nor added.
            if (users == 0 && !removed.Remove(state.ClusterIp))
            {
                add.Add(state.ClusterIp);
            }
        }

        return (add, removed);
    }

    /// <summary>The address changes of a full sync: users counted again from the desired ports, compared with what the interface holds.</summary>
    private (List<string> Add, List<string> Remove) RecountUsers(IReadOnlyList<ServicePortState> desired, IReadOnlySet<string> present)
    {
        _addressUsers.Clear();
        foreach (var state in desired.Where(Relayed))
        {
            _addressUsers[state.ClusterIp] = _addressUsers.GetValueOrDefault(state.ClusterIp) + 1;
        }

        return ([.. _addressUsers.Keys.Where(ip => !present.Contains(ip))], [.. present.Where(ip => !_addressUsers.ContainsKey(ip))]);
    }

    private static bool Relayed(ServicePortState state) => state.Protocol is "tcp" or "udp";

    [LoggerMessage(EventId = 6103, Level = LogLevel.Debug, Message = "userspace {Kind} sync in {Namespace}: {Changed} of {Total} service ports changed, {Milliseconds:F1} ms")]
    private static partial void LogSynced(ILogger logger, string kind, string @namespace, int changed, int total, double milliseconds);

    [LoggerMessage(EventId = 6104, Level = LogLevel.Warning, Message = "userspace sync in {Namespace} failed; the next sync is a full one")]
    private static partial void LogSyncFailed(ILogger logger, Exception exception, string @namespace);
}
