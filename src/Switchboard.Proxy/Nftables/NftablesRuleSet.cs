using Switchboard.Proxy.Model;

namespace Switchboard.Proxy.Nftables;

/// <summary>
/// What is programmed in one node's <c>ip kube-proxy</c> table, kept in memory, and the nf_tables transaction that
/// brings it to a new desired state. A full sync replaces the table. After it, a sync sends only the elements that
/// changed (deleted, then added) and the rules of a class or firewall chain not programmed yet; nothing is read back
/// from the kernel, so one change costs O(change) however many services exist.
/// </summary>
internal sealed class NftablesRuleSet(string? clusterCidr) : IDisposable
{
    private readonly NftablesLayout _layout = new(clusterCidr);
    private readonly Dictionary<string, NftServicePort> _programmed = new(StringComparer.Ordinal);
    private readonly List<(NftServicePort? Old, NftServicePort? New)> _changes = [];

    // Bookkeeping of the kernel's state beyond the ports; a failed transaction forces a full sync, which resets it.
    private readonly Dictionary<(NftSelector Selector, NftClass Class), int> _classes = [];
    private readonly Dictionary<string, int> _hairpin = new(StringComparer.Ordinal);
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
        bool full = NeedsFullSync;
        if (full)
        {
            _classes.Clear();
            _hairpin.Clear();
        }

        _changes.Clear();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in desired)
        {
            seen.Add(s.ServiceChain);
            NftServicePort? programmed = full ? null : _programmed.GetValueOrDefault(s.ServiceChain);
            if (programmed is null || !programmed.State.Equals(s))
            {
                _changes.Add((programmed, new NftServicePort(s)));
            }
        }

        if (!full)
        {
            _changes.AddRange(_programmed.Where(p => !seen.Contains(p.Key)).Select(p => ((NftServicePort?)p.Value, (NftServicePort?)null)));
        }

        // Sequence numbers keep growing, so a late reply can never be mistaken for one of this batch.
        // A full sync's messages ask only the commit for an ACK (errors are always reported); small ones ACK each.
        Batch.Begin(_sequence, ackEach: !full);
        if (full)
        {
            _layout.WriteBase(Batch);
        }
        else
        {
            // kube-proxy's canary: every sync, the periodic one too, finds out whether someone deleted our table
            // (`nft flush ruleset`); the transaction then fails and the next sync rebuilds everything.
            Batch.RequireChain(NftablesLayout.Services);
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

    public NftServicePort? Programmed(string serviceChain) => _programmed.GetValueOrDefault(serviceChain);

    /// <summary>Records that the transaction failed: the next sync is a full one.</summary>
    public void Failed() => NeedsFullSync = true;

    public void Dispose() => Batch.Dispose();

    // Deletions first (an element whose value changes is deleted and added again, and a chain goes only once no
    // element leads to it), then new chains, class maps and rules, then new elements, grouped by set to share
    // messages. Class maps and rules stay when their last service goes: few, and the next sync may need them again.
    private void WriteChanges()
    {
        var b = Batch;
        var deleted = new List<NftElement>();
        var added = new List<NftElement>();
        foreach (var (old, current) in _changes)
        {
            var before = (old?.Elements ?? []).ToDictionary(e => e.Id, StringComparer.Ordinal);
            var after = (current?.Elements ?? []).ToDictionary(e => e.Id, StringComparer.Ordinal);
            deleted.AddRange(before.Values.Where(e => !after.TryGetValue(e.Id, out var n) || !n.SameValue(e)));
            added.AddRange(after.Values.Where(e => !before.TryGetValue(e.Id, out var o) || !o.SameValue(e)));
            var kept = current?.HairpinAddresses ?? new HashSet<string>();
            var had = old?.HairpinAddresses ?? new HashSet<string>();
            Count(had.Where(ip => !kept.Contains(ip)), -1, deleted);
            Count(kept.Where(ip => !had.Contains(ip)), +1, added);
        }

        foreach (var e in deleted.OrderBy(e => e.Set, StringComparer.Ordinal))
        {
            b.DataElement(NftOperation.DelSetElem, e.Set, e.Key, default);
        }

        foreach (string clients in _changes.SelectMany(c => StalePins(c.Old, c.New)).Distinct(StringComparer.Ordinal))
        {
            b.FlushSet(clients);
        }

        foreach (var (old, current) in _changes)
        {
            if (old?.FirewallChain is { } chain && (current?.FirewallChain != chain || !current.FirewallRanges.SequenceEqual(old.FirewallRanges)))
            {
                b.FlushChain(chain);
                if (current?.FirewallChain != chain)
                {
                    b.DeleteChain(chain);
                }
            }
        }

        foreach (var (old, current) in _changes)
        {
            if (current?.FirewallChain is { } chain && (old?.FirewallChain != chain || !current.FirewallRanges.SequenceEqual(old.FirewallRanges)))
            {
                if (old?.FirewallChain != chain)
                {
                    b.AddChain(chain);
                }

                NftablesLayout.WriteFirewallChain(b, chain, current.FirewallRanges);
            }

        }

        WriteClasses(b);

        foreach (var e in added.OrderBy(e => e.Set, StringComparer.Ordinal))
        {
            if (e.Chain is not null)
            {
                b.Element(NftOperation.NewSetElem, e.Set, e.Key, e.Chain);
            }
            else
            {
                b.DataElement(NftOperation.NewSetElem, e.Set, e.Key, e.Data);
            }
        }
    }

    /// <summary>
    /// Counts the entries of each class: a class used for the first time gets its set and rules; a selection chain
    /// one of whose classes is no longer used is flushed and rewritten without it, and that class's set goes, so
    /// the table holds what a full sync of the same services would.
    /// </summary>
    private void WriteClasses(NftBatch b)
    {
        var added = new List<(NftSelector Selector, NftClass Class)>();
        var removed = new List<(NftSelector Selector, NftClass Class)>();
        foreach (var (old, current) in _changes)
        {
            foreach (var used in old?.Selections ?? [])
            {
                if ((_classes[used] -= 1) == 0)
                {
                    _classes.Remove(used);
                    removed.Add(used);
                }
            }

            foreach (var used in current?.Selections ?? [])
            {
                int count = _classes.GetValueOrDefault(used);
                _classes[used] = count + 1;
                if (count == 0)
                {
                    added.Add(used);
                }
            }
        }

        // A class that went and came back within the sync is unchanged.
        var kept = removed.Intersect(added).ToList();
        removed.RemoveAll(kept.Contains);
        added.RemoveAll(kept.Contains);
        var rewritten = removed.Select(r => r.Selector).Distinct().ToList();
        foreach (var selector in rewritten)
        {
            b.FlushChain(selector.Chain);
        }

        foreach (var (selector, c) in removed)
        {
            b.DeleteSet(selector.SetOf(c));
            if (c.AffinitySeconds > 0)
            {
                b.DeleteSet(selector.ClientsOf(c));
            }
        }

        foreach (var selector in rewritten)
        {
            foreach (var c in _classes.Keys.Where(k => k.Selector == selector && !added.Contains(k)).Select(k => k.Class))
            {
                NftablesLayout.WriteClass(b, selector, c);
            }
        }

        foreach (var (selector, c) in added)
        {
            NftablesLayout.WriteClass(b, selector, c);
        }
    }

    /// <summary>
    /// The affinity maps that may pin a client to an endpoint the port no longer has (or to a port that goes): a
    /// pin is keyed by client and entry, not by endpoint, so the map of the class is emptied, and the clients of
    /// the other services of that class are balanced afresh.
    /// </summary>
    private static IEnumerable<string> StalePins(NftServicePort? old, NftServicePort? current)
    {
        if (old is null || old.State.AffinitySeconds == 0)
        {
            return [];
        }

        bool lost = current is null || current.State.AffinitySeconds != old.State.AffinitySeconds ||
            old.State.Endpoints.Except(current.State.Endpoints).Any() || old.State.LocalEndpoints.Except(current.State.LocalEndpoints).Any();
        return lost ? old.Selections.Select(s => s.Selector.ClientsOf(s.Class)) : [];
    }

    /// <summary>Counts the ports using each hairpin address: the element goes in with the first, out with the last.</summary>
    private void Count(IEnumerable<string> addresses, int delta, List<NftElement> changed)
    {
        foreach (string ip in addresses)
        {
            int count = _hairpin.GetValueOrDefault(ip) + delta;
            if (count == 0)
            {
                _hairpin.Remove(ip);
            }
            else
            {
                _hairpin[ip] = count;
            }

            if ((delta > 0 && count == 1) || (delta < 0 && count == 0))
            {
                changed.Add(new NftElement(NftablesLayout.Hairpin, NftablesLayout.HairpinKey(ip)));
            }
        }
    }
}
