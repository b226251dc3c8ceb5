using Switchboard.Proxy.Model;

namespace Switchboard.Proxy.Nftables;

/// <summary>
/// What is programmed in one node's <c>ip kube-proxy</c> table, kept in memory, and the nf_tables transaction that
/// brings it to a new desired state. A full sync replaces the table. After it, a sync sends only what changed:
/// map elements added or deleted, the changed ports' service chains flushed and rewritten, endpoint chains created or
/// deleted one by one; nothing is read back from the kernel, so one change costs O(change) however many services exist.
/// </summary>
internal sealed class NftablesRuleSet(string? clusterCidr) : IDisposable
{
    private readonly NftablesLayout _layout = new(clusterCidr);
    private readonly Dictionary<string, NftServicePort> _programmed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NftServicePort> _desired = new(StringComparer.Ordinal);
    private readonly List<(NftServicePort? Old, NftServicePort? New)> _changes = [];
    private uint _sequence = 1;

    /// <summary>The transaction the last <see cref="Render"/> wrote; reused by the next.</summary>
    public NftBatch Batch { get; } = new(NftablesLayout.Table);

    /// <summary>True until a full sync is applied, and again after any failed one: the kernel's state is unknown.</summary>
    public bool NeedsFullSync { get; private set; } = true;

    /// <summary>How many service ports the last render wrote (all of them on a full sync).</summary>
    public int ChangedServicePorts => _changes.Count;

    /// <summary>Renders the transaction to <paramref name="desired"/>: a full one while <see cref="NeedsFullSync"/>.</summary>
    public void Render(IReadOnlyList<ServicePortState> desired)
    {
        ArgumentNullException.ThrowIfNull(desired);
        _changes.Clear();
        _desired.Clear();
        foreach (var s in desired)
        {
            // Unchanged ports keep their instance (and its names) from the last sync.
            NftServicePort? programmed = NeedsFullSync ? null : _programmed.GetValueOrDefault(s.ServiceChain);
            var port = programmed is not null && programmed.State.Equals(s) ? programmed : new NftServicePort(s);
            _desired[s.ServiceChain] = port;
            if (port != programmed)
            {
                _changes.Add((programmed, port));
            }
        }

        if (!NeedsFullSync)
        {
            foreach (var (key, old) in _programmed)
            {
                if (!_desired.ContainsKey(key))
                {
                    _changes.Add((old, null));
                }
            }
        }

        // Sequence numbers keep growing, so a late reply can never be mistaken for one of this batch.
        // A full sync's 100,000 messages ask only the commit for an ACK (errors are always reported); small ones ACK each.
        Batch.Begin(_sequence, ackEach: !NeedsFullSync);
        if (NeedsFullSync)
        {
            NftablesLayout.WriteBase(Batch);
        }

        WriteChanges();
        Batch.End();
        _sequence = Batch.EndSequence + 1;
    }

    /// <summary>Records that the last rendered transaction was committed: it is now what the kernel has.</summary>
    public void Applied()
    {
        if (NeedsFullSync)
        {
            _programmed.Clear();
        }

        foreach (var (old, current) in _changes)
        {
            if (current is null)
            {
                _programmed.Remove(old!.State.ServiceChain);
            }
            else
            {
                _programmed[current.State.ServiceChain] = current;
            }
        }

        NeedsFullSync = false;
    }

    /// <summary>Records that the transaction failed: the next sync is a full one.</summary>
    public void Failed() => NeedsFullSync = true;

    public void Dispose() => Batch.Dispose();

    // Deletions before creations, so that a chain or set is unreferenced when it goes and a name can come back
    // with other contents in the same transaction.
    private void WriteChanges()
    {
        var b = Batch;
        foreach (var (old, current) in _changes)
        {
            if (old is null)
            {
                continue;
            }

            if (current is null || !SameClusterIpElement(old, current))
            {
                NftablesLayout.ClusterIpElement(b, NftOperation.DelSetElem, old);
            }

            if (old.State.NodePort != 0 && (current is null || !SameNodePortElement(old, current)))
            {
                NftablesLayout.NodePortElement(b, NftOperation.DelSetElem, old);
            }
        }

        foreach (var (old, current) in _changes)
        {
            if (old is not null)
            {
                RemoveOld(b, old, current);
            }
        }

        foreach (var (old, current) in _changes)
        {
            if (current is not null)
            {
                WriteNew(b, old, current);
            }
        }

        // Elements last, grouped by map so that consecutive elements share one NEWSETELEM message.
        foreach (string map in (string[])[NftablesLayout.ServiceIps, NftablesLayout.NoEndpointServices])
        {
            foreach (var (old, current) in _changes)
            {
                if (current is not null && MapOf(current.State) == map && (old is null || !SameClusterIpElement(old, current)))
                {
                    NftablesLayout.ClusterIpElement(b, NftOperation.NewSetElem, current);
                }
            }
        }

        foreach (var (old, current) in _changes)
        {
            if (current is not null && current.State.NodePort != 0 && (old is null || !SameNodePortElement(old, current)))
            {
                NftablesLayout.NodePortElement(b, NftOperation.NewSetElem, current);
            }
        }
    }

    /// <summary>Flushes the old port's chains that change or go, then deletes those that go and its stale affinity sets.</summary>
    private static void RemoveOld(NftBatch b, NftServicePort old, NftServicePort? current)
    {
        if (old.HasChains)
        {
            b.FlushChain(old.ServiceChain);
        }

        if (old.HasExternalChain && current?.HasExternalChain != true)
        {
            b.FlushChain(old.ExternalChain);
        }

        for (int i = 0; i < old.EndpointChains.Length; i++)
        {
            if (!KeepsEndpointChain(current, old, i))
            {
                b.FlushChain(old.EndpointChains[i]);
            }
        }

        if (old.HasChains && current?.HasChains != true)
        {
            b.DeleteChain(old.ServiceChain);
        }

        if (old.HasExternalChain && current?.HasExternalChain != true)
        {
            b.DeleteChain(old.ExternalChain);
        }

        for (int i = 0; i < old.EndpointChains.Length; i++)
        {
            if (!KeepsEndpointChain(current, old, i) && current?.EndpointChains.Contains(old.EndpointChains[i]) != true)
            {
                b.DeleteChain(old.EndpointChains[i]);
            }
        }

        // An affinity set goes when its endpoint goes or the timeout changes (a set's timeout is fixed at creation).
        foreach (string set in old.AffinitySets)
        {
            if (current is null || current.State.AffinitySeconds != old.State.AffinitySeconds || !current.AffinitySets.Contains(set))
            {
                b.DeleteSet(set);
            }
        }
    }

    /// <summary>Creates the new port's missing sets and chains and writes the rules of every chain not kept as it was.</summary>
    private void WriteNew(NftBatch b, NftServicePort? old, NftServicePort current)
    {
        if (!current.HasChains)
        {
            return;
        }

        foreach (string set in current.AffinitySets)
        {
            if (old is null || old.State.AffinitySeconds != current.State.AffinitySeconds || !old.AffinitySets.Contains(set))
            {
                b.AddTimeoutAddressSet(set, current.State.AffinitySeconds);
            }
        }

        // Endpoint chains first: the service chain's rules jump to them.
        for (int i = 0; i < current.EndpointChains.Length; i++)
        {
            string chain = current.EndpointChains[i];
            int previous = old is null ? -1 : old.EndpointChains.IndexOf(chain);
            if (previous < 0 || !KeepsEndpointChain(current, old!, previous))
            {
                if (previous < 0)
                {
                    b.AddChain(chain);
                }

                NftablesLayout.WriteEndpointChain(b, current, i);
            }
        }

        if (old?.HasChains != true)
        {
            b.AddChain(current.ServiceChain);
        }

        _layout.WriteServiceChain(b, current);
        if (current.HasExternalChain && old?.HasExternalChain != true)
        {
            b.AddChain(current.ExternalChain);
            NftablesLayout.WriteExternalChain(b, current);
        }
    }

    /// <summary>Whether endpoint chain <paramref name="index"/> of <paramref name="old"/> stays as it is: same endpoint, same affinity.</summary>
    private static bool KeepsEndpointChain(NftServicePort? current, NftServicePort old, int index) =>
        current is not null && current.State.AffinitySeconds == old.State.AffinitySeconds && current.EndpointChains.Contains(old.EndpointChains[index]);

    private static bool SameClusterIpElement(NftServicePort old, NftServicePort current) =>
        old.State.ClusterIp == current.State.ClusterIp && old.State.Port == current.State.Port && old.State.HasEndpoints == current.State.HasEndpoints;

    private static bool SameNodePortElement(NftServicePort old, NftServicePort current) =>
        old.State.NodePort == current.State.NodePort && old.State.HasEndpoints == current.State.HasEndpoints;

    private static string MapOf(ServicePortState s) => s.HasEndpoints ? NftablesLayout.ServiceIps : NftablesLayout.NoEndpointServices;
}
