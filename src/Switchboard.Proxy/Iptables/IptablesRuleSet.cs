using Switchboard.Proxy.Model;

namespace Switchboard.Proxy.Iptables;

/// <summary>
/// What is programmed in one node's iptables, kept in memory, and the iptables-restore document (for
/// <c>--noflush</c>) that brings it to a new desired state. A full sync rewrites every chain Switchboard owns and
/// deletes stale ones found in the kernel. After it, as KEP-3453 does, a partial sync writes only the chains of
/// the service ports that changed and deletes their stale chains; it goes further than kube-proxy by also editing
/// the shared chains (KUBE-SERVICES, KUBE-NODEPORTS, filter) rule by rule instead of rewriting them, so one
/// change costs O(change) bytes however many services exist.
/// </summary>
internal sealed class IptablesRuleSet(IptablesOptions options) : IDisposable
{
    private static readonly string[] ServiceChainPrefixes = ["KUBE-SVC-", "KUBE-SEP-", "KUBE-EXT-"];

    private readonly IptablesRuleWriter _rules = new(options);
    private readonly Dictionary<string, ServicePortState> _programmed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ServicePortState> _desired = new(StringComparer.Ordinal);
    private readonly List<(ServicePortState? Old, ServicePortState? New)> _changes = [];
    private readonly HashSet<string> _chains = new(StringComparer.Ordinal);
    private readonly List<string> _stale = [];

    /// <summary>The document the last <see cref="Render"/> wrote; reused by the next.</summary>
    public RestoreWriter Document { get; } = new();

    /// <summary>True until a full sync is applied, and again after any failed apply: the kernel's state is unknown.</summary>
    public bool NeedsFullSync { get; private set; } = true;

    /// <summary>How many service ports the last render rewrote (all of them on a full sync).</summary>
    public int ChangedServicePorts { get; private set; }

    /// <summary>The service ports programmed by the last applied sync.</summary>
    public int ProgrammedServicePorts => _programmed.Count;

    /// <summary>
    /// Renders the sync to <paramref name="desired"/>: a full one while <see cref="NeedsFullSync"/>, deleting the
    /// service chains of <paramref name="kernelChains"/> (the nat chains the kernel has) that are no longer wanted.
    /// </summary>
    public void Render(IReadOnlyList<ServicePortState> desired, IEnumerable<string> kernelChains)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(kernelChains);
        _desired.Clear();
        foreach (var s in desired)
        {
            _desired[s.ServiceChain] = s;
        }

        Document.Clear();
        if (NeedsFullSync)
        {
            RenderFull(desired, kernelChains);
        }
        else
        {
            RenderPartial();
        }
    }

    /// <summary>Records that the last rendered document was applied: it is now what the kernel has.</summary>
    public void Applied()
    {
        if (NeedsFullSync)
        {
            _programmed.Clear();
            foreach (var (chain, s) in _desired)
            {
                _programmed[chain] = s;
            }
        }
        else
        {
            // A partial sync changed only these service ports.
            foreach (var (old, current) in _changes)
            {
                if (current is null)
                {
                    _programmed.Remove(old!.ServiceChain);
                }
                else
                {
                    _programmed[current.ServiceChain] = current;
                }
            }
        }

        NeedsFullSync = false;
    }

    /// <summary>Records that applying failed: the kernel may hold anything, so the next sync is a full one.</summary>
    public void Failed() => NeedsFullSync = true;

    public void Dispose() => Document.Dispose();

    private void RenderFull(IReadOnlyList<ServicePortState> desired, IEnumerable<string> kernelChains)
    {
        var w = Document;
        ChangedServicePorts = desired.Count;
        w.Append("*filter").EndLine();
        IptablesRuleWriter.DeclareChain(w, IptablesRuleWriter.Services);
        IptablesRuleWriter.DeclareChain(w, IptablesRuleWriter.ExternalServices);
        foreach (var s in desired)
        {
            IptablesRuleWriter.WriteFilterEntries(w, IptablesRuleWriter.Op.Append, s);
        }

        w.Append("COMMIT").EndLine();

        w.Append("*nat").EndLine();
        IptablesRuleWriter.DeclareChain(w, IptablesRuleWriter.Services);
        IptablesRuleWriter.DeclareChain(w, IptablesRuleWriter.NodePorts);
        IptablesRuleWriter.DeclareChain(w, IptablesRuleWriter.PostRouting);
        IptablesRuleWriter.DeclareChain(w, IptablesRuleWriter.MarkMasq);
        _chains.Clear();
        foreach (var s in desired)
        {
            IptablesRuleWriter.DeclareChains(w, s);
            IptablesRuleWriter.ForEachChain(s, _chains, static (chain, chains) => chains.Add(chain));
        }

        _stale.Clear();
        _stale.AddRange(kernelChains.Where(c => IsServiceChain(c) && !_chains.Contains(c)).Order(StringComparer.Ordinal));
        foreach (string chain in _stale)
        {
            IptablesRuleWriter.DeclareChain(w, chain);
        }

        IptablesRuleWriter.WriteMasqueradeRules(w);
        foreach (var s in desired)
        {
            IptablesRuleWriter.WriteNatEntries(w, IptablesRuleWriter.Op.Append, s);
        }

        IptablesRuleWriter.WriteNodePortsJump(w);
        foreach (var s in desired)
        {
            _rules.WriteChainRules(w, s);
        }

        EndNat();
    }

    private void RenderPartial()
    {
        _changes.Clear();
        foreach (var (chain, s) in _desired)
        {
            if (!_programmed.TryGetValue(chain, out var old) || !old.Equals(s))
            {
                _changes.Add((old, s));
            }
        }

        foreach (var (chain, old) in _programmed)
        {
            if (!_desired.ContainsKey(chain))
            {
                _changes.Add((old, null));
            }
        }

        // Chain names sort the changes, so one set of changes always renders the same document.
        _changes.Sort(static (a, b) => string.CompareOrdinal((a.New ?? a.Old)!.ServiceChain, (b.New ?? b.Old)!.ServiceChain));
        ChangedServicePorts = _changes.Count;

        var w = Document;
        w.Append("*filter").EndLine();
        WriteEntryChanges(IptablesRuleWriter.WriteFilterEntries);
        w.Append("COMMIT").EndLine();

        w.Append("*nat").EndLine();
        _stale.Clear();
        foreach (var (old, current) in _changes)
        {
            _chains.Clear();
            if (current is not null)
            {
                IptablesRuleWriter.DeclareChains(w, current);
                IptablesRuleWriter.ForEachChain(current, _chains, static (chain, chains) => chains.Add(chain));
            }

            if (old is not null)
            {
                IptablesRuleWriter.ForEachChain(old, (_chains, _stale), static (chain, sets) =>
                {
                    if (!sets._chains.Contains(chain))
                    {
                        sets._stale.Add(chain);
                    }
                });
            }
        }

        foreach (string chain in _stale)
        {
            IptablesRuleWriter.DeclareChain(w, chain);
        }

        WriteEntryChanges(IptablesRuleWriter.WriteNatEntries);
        foreach (var (_, current) in _changes)
        {
            if (current is not null)
            {
                _rules.WriteChainRules(w, current);
            }
        }

        EndNat();
    }

    // Deletes the old shared-chain rules of changed ports before inserting the new ones; ports whose shared rules
    // did not change (only their endpoints did) keep them untouched.
    private void WriteEntryChanges(Action<RestoreWriter, IptablesRuleWriter.Op, ServicePortState> write)
    {
        foreach (var (old, current) in _changes)
        {
            if (old is not null && (current is null || !old.SameEntryRules(current)))
            {
                write(Document, IptablesRuleWriter.Op.Delete, old);
            }
        }

        foreach (var (old, current) in _changes)
        {
            if (current is not null && (old is null || !old.SameEntryRules(current)))
            {
                write(Document, IptablesRuleWriter.Op.Insert, current);
            }
        }
    }

    private void EndNat()
    {
        foreach (string chain in _stale)
        {
            IptablesRuleWriter.DeleteChain(Document, chain);
        }

        Document.Append("COMMIT").EndLine();
    }

    private static bool IsServiceChain(string chain) =>
        ServiceChainPrefixes.Any(prefix => chain.StartsWith(prefix, StringComparison.Ordinal));
}
