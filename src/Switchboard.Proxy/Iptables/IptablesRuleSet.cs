using Switchboard.Proxy.Model;

namespace Switchboard.Proxy.Iptables;

/// <summary>
/// What is programmed in one node's iptables, kept in memory, and the iptables-restore document (for
/// <c>--noflush</c>) that brings it to a new desired state.
/// <para>
/// A full sync renders every chain Switchboard owns; given the kernel's rules (<c>iptables-save</c>) it writes only
/// the chains that differ from them, deletes stale chains, and adds the built-in chains' jumps that are missing. So a
/// restarted proxy on a node that is already right writes nothing, and one whose tables were flushed writes everything.
/// </para>
/// <para>
/// After it, as KEP-3453 does, a partial sync writes only the chains of the service ports that changed and deletes
/// their stale chains; it goes further than kube-proxy by also editing the shared chains (KUBE-SERVICES,
/// KUBE-NODEPORTS, filter) rule by rule instead of rewriting them, so one change costs O(change) bytes however many
/// services exist.
/// </para>
/// </summary>
internal sealed class IptablesRuleSet(IptablesOptions options) : IDisposable
{
    /// <summary>The chains of service ports, which a sync deletes once no service port uses them.</summary>
    private static readonly string[] ServiceChainPrefixes = ["KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SEP-"];

    // kube-proxy's iptablesJumpChains: the built-in chains' jumps into ours, added at their head when missing (so the
    // last listed for a chain comes first in it, as kube-proxy's prepends leave them).
    private static readonly (string Table, string Chain, string Rule)[] Jumps =
    [
        ("filter", "INPUT", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j " + IptablesRuleWriter.ExternalServices),
        ("filter", "FORWARD", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j " + IptablesRuleWriter.ExternalServices),
        ("filter", "FORWARD", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j " + IptablesRuleWriter.Services),
        ("filter", "OUTPUT", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j " + IptablesRuleWriter.Services),
        ("filter", "INPUT", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j " + IptablesRuleWriter.ProxyFirewall),
        ("filter", "OUTPUT", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j " + IptablesRuleWriter.ProxyFirewall),
        ("filter", "FORWARD", "-m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j " + IptablesRuleWriter.ProxyFirewall),
        ("nat", "PREROUTING", "-m comment --comment \"kubernetes service portals\" -j " + IptablesRuleWriter.Services),
        ("nat", "OUTPUT", "-m comment --comment \"kubernetes service portals\" -j " + IptablesRuleWriter.Services),
        ("nat", "POSTROUTING", "-m comment --comment \"kubernetes postrouting rules\" -j " + IptablesRuleWriter.PostRouting),
    ];

    // Chains where only the set of rules matters (each matches its own destination), except that the last rule stays last.
    private static readonly HashSet<string> DispatchChains = new([IptablesRuleWriter.Services, IptablesRuleWriter.ExternalServices, IptablesRuleWriter.ProxyFirewall, IptablesRuleWriter.NodePorts], StringComparer.Ordinal);

    private readonly IptablesRuleWriter _rules = new(options);
    private readonly RestoreWriter _full = new();
    private readonly Dictionary<string, ServicePortState> _programmed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ServicePortState> _desired = new(StringComparer.Ordinal);
    private readonly List<(ServicePortState? Old, ServicePortState? New)> _changes = [];
    private readonly HashSet<string> _chains = new(StringComparer.Ordinal);
    private readonly List<string> _stale = [];

    // Rules per service port (filter, nat) as programmed, and as the last render would leave them.
    private readonly Dictionary<string, (int Filter, int NatEntries, int NatChains)> _ruleCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Filter, int NatEntries, int NatChains)> _renderedCounts = new(StringComparer.Ordinal);
    private int _renderedBaseNat;

    /// <summary>The document the last <see cref="Render"/> wrote; reused by the next.</summary>
    public RestoreWriter Document { get; } = new();

    /// <summary>True until a full sync is applied, and again after any failed apply: the kernel's state is unknown.</summary>
    public bool NeedsFullSync { get; private set; } = true;

    /// <summary>How many service ports the last render rewrote (all of them on a full sync).</summary>
    public int ChangedServicePorts { get; private set; }

    /// <summary>Whether <see cref="Document"/> changes anything in the kernel; when not, it need not be applied.</summary>
    public bool HasChanges { get; private set; }

    /// <summary>The service ports programmed by the last applied sync.</summary>
    public int ProgrammedServicePorts => _programmed.Count;

    /// <summary>The rules Switchboard has in the filter table (kube-proxy's <c>sync_proxy_rules_iptables_total{table="filter"}</c>).</summary>
    public int FilterRules { get; private set; }

    /// <summary>The rules Switchboard has in the nat table.</summary>
    public int NatRules { get; private set; }

    /// <summary>
    /// Renders the sync to <paramref name="desired"/>: a full one while <see cref="NeedsFullSync"/>, reduced to what
    /// differs from <paramref name="kernel"/> (the kernel's rules) when given, deleting the service chains it has that
    /// are no longer wanted. Without <paramref name="kernel"/> the full document is written as is.
    /// </summary>
    public void Render(IReadOnlyList<ServicePortState> desired, SavedRules? kernel)
    {
        ArgumentNullException.ThrowIfNull(desired);
        _desired.Clear();
        foreach (var s in desired)
        {
            _desired[s.ServiceChain] = s;
        }

        Document.Clear();
        _renderedCounts.Clear();
        if (NeedsFullSync)
        {
            _full.Clear();
            RenderFull(kernel is null ? Document : _full, desired, kernel);
            if (kernel is not null)
            {
                Reduce(kernel);
            }
            else
            {
                HasChanges = true;
            }
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
            _ruleCounts.Clear();
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
                    _ruleCounts.Remove(old.ServiceChain);
                }
                else
                {
                    _programmed[current.ServiceChain] = current;
                }
            }
        }

        foreach (var (chain, counts) in _renderedCounts)
        {
            _ruleCounts[chain] = counts;
        }

        int filter = 0, nat = _renderedBaseNat;
        foreach (var counts in _ruleCounts.Values)
        {
            filter += counts.Filter;
            nat += counts.NatEntries + counts.NatChains;
        }

        FilterRules = filter;
        NatRules = nat;
        NeedsFullSync = false;
    }

    /// <summary>Records that applying failed, or that the kernel lost rules: the next sync is a full one.</summary>
    public void Failed() => NeedsFullSync = true;

    public void Dispose()
    {
        Document.Dispose();
        _full.Dispose();
    }

    private void RenderFull(RestoreWriter w, IReadOnlyList<ServicePortState> desired, SavedRules? kernel)
    {
        ChangedServicePorts = desired.Count;
        w.Append("*mangle").EndLine();
        IptablesRuleWriter.DeclareChain(w, IptablesRuleWriter.Canary);
        w.Append("COMMIT").EndLine();

        w.Append("*filter").EndLine();
        IptablesRuleWriter.DeclareChain(w, IptablesRuleWriter.Services);
        IptablesRuleWriter.DeclareChain(w, IptablesRuleWriter.ExternalServices);
        IptablesRuleWriter.DeclareChain(w, IptablesRuleWriter.ProxyFirewall);
        IptablesRuleWriter.DeclareChain(w, IptablesRuleWriter.Canary);
        foreach (var s in desired)
        {
            int before = w.Rules;
            IptablesRuleWriter.WriteFilterEntries(w, IptablesRuleWriter.Op.Append, s);
            _renderedCounts[s.ServiceChain] = (w.Rules - before, 0, 0);
        }

        w.Append("COMMIT").EndLine();

        w.Append("*nat").EndLine();
        IptablesRuleWriter.DeclareChain(w, IptablesRuleWriter.Services);
        IptablesRuleWriter.DeclareChain(w, IptablesRuleWriter.NodePorts);
        IptablesRuleWriter.DeclareChain(w, IptablesRuleWriter.PostRouting);
        IptablesRuleWriter.DeclareChain(w, IptablesRuleWriter.MarkMasq);
        IptablesRuleWriter.DeclareChain(w, IptablesRuleWriter.Canary);
        _chains.Clear();
        foreach (var s in desired)
        {
            IptablesRuleWriter.DeclareChains(w, s);
            IptablesRuleWriter.ForEachChain(s, _chains, static (chain, chains) => chains.Add(chain));
        }

        _stale.Clear();
        _stale.AddRange((kernel?.Chains("nat") ?? []).Where(c => IsServiceChain(c) && !_chains.Contains(c)).Order(StringComparer.Ordinal));
        foreach (string chain in _stale)
        {
            IptablesRuleWriter.DeclareChain(w, chain);
        }

        int baseStart = w.Rules;
        IptablesRuleWriter.WriteMasqueradeRules(w);
        foreach (var s in desired)
        {
            int before = w.Rules;
            IptablesRuleWriter.WriteNatEntries(w, IptablesRuleWriter.Op.Append, s);
            _renderedCounts[s.ServiceChain] = _renderedCounts[s.ServiceChain] with { NatEntries = w.Rules - before };
            baseStart += w.Rules - before;
        }

        IptablesRuleWriter.WriteNodePortsJump(w);
        _renderedBaseNat = w.Rules - baseStart;
        foreach (var s in desired)
        {
            int before = w.Rules;
            _rules.WriteChainRules(w, s);
            _renderedCounts[s.ServiceChain] = _renderedCounts[s.ServiceChain] with { NatChains = w.Rules - before };
        }

        EndNat(w);
    }

    /// <summary>
    /// Copies from the full document into <see cref="Document"/> only the chains that differ from the kernel's
    /// (each written whole: declaring a chain flushes it), the stale chains' deletion, and the missing jumps.
    /// </summary>
    private void Reduce(SavedRules kernel)
    {
        string[] lines = _full.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        // Our rules in canonical form, only for the chains the kernel has: the others are written whatever they hold.
        var ours = new Dictionary<(string, string), List<string>>();
        string table = "";
        foreach (string line in lines)
        {
            if (line[0] == '*')
            {
                table = line[1..];
            }
            else if (ChainOf(line) is { } chain && kernel.HasChain(table, chain))
            {
                if (!ours.TryGetValue((table, chain), out var rules))
                {
                    rules = [];
                    ours[(table, chain)] = rules;
                }

                if (line[0] == '-' && line[1] == 'A')
                {
                    rules.Add(RuleText.Canonical(line[(4 + chain.Length)..]));
                }
            }
        }

        var unchanged = new HashSet<(string, string)>();
        foreach (var ((chainTable, chain), rules) in ours)
        {
            if (!_stale.Contains(chain) && SameChain(chain, rules, kernel.Rules(chainTable, chain)))
            {
                unchanged.Add((chainTable, chain));
            }
        }

        HasChanges = false;
        var w = Document;
        foreach (string line in lines)
        {
            if (line[0] == '*')
            {
                table = line[1..];
            }
            else if (line == "COMMIT")
            {
                WriteMissingJumps(w, table, kernel);
            }
            else if (ChainOf(line) is { } chain && unchanged.Contains((table, chain)))
            {
                continue;
            }
            else
            {
                HasChanges = true;
            }

            w.Append(line).EndLine();
        }
    }

    // The chain a declaration (:CHAIN), a rule (-A CHAIN …) or a deletion (-X CHAIN) is about.
    private static string? ChainOf(string line)
    {
        int start = line[0] == ':' ? 1 : line.StartsWith("-A ", StringComparison.Ordinal) || line.StartsWith("-X ", StringComparison.Ordinal) ? 3 : -1;
        if (start < 0)
        {
            return null;
        }

        int end = line.IndexOf(' ', start);
        return end < 0 ? line[start..] : line[start..end];
    }

    private void WriteMissingJumps(RestoreWriter w, string table, SavedRules kernel)
    {
        foreach (var (jumpTable, chain, rule) in Jumps)
        {
            if (jumpTable == table && kernel.Rules(table, chain)?.Contains(RuleText.Canonical(rule)) != true)
            {
                w.InsertRule(chain).Arg(rule).EndLine();
                HasChanges = true;
            }
        }
    }

    private static bool SameChain(string chain, IReadOnlyList<string> ours, IReadOnlyList<string>? kernel)
    {
        if (kernel is null || kernel.Count != ours.Count)
        {
            return false;
        }

        if (!DispatchChains.Contains(chain))
        {
            return ours.SequenceEqual(kernel, StringComparer.Ordinal);
        }

        // Partial syncs insert new services' rules first, so a correct chain may list them in another order.
        return (ours.Count == 0 || ours[^1] == kernel[^1]) &&
            ours.Order(StringComparer.Ordinal).SequenceEqual(kernel.Order(StringComparer.Ordinal), StringComparer.Ordinal);
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
        HasChanges = _changes.Count > 0;
        foreach (var (old, current) in _changes)
        {
            if (current is not null)
            {
                _renderedCounts[current.ServiceChain] = old is null ? default : _ruleCounts.GetValueOrDefault(old.ServiceChain);
            }
        }

        var w = Document;
        w.Append("*filter").EndLine();
        WriteEntryChanges(IptablesRuleWriter.WriteFilterEntries, static (counts, n) => counts with { Filter = n });
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

        WriteEntryChanges(IptablesRuleWriter.WriteNatEntries, static (counts, n) => counts with { NatEntries = n });
        foreach (var (_, current) in _changes)
        {
            if (current is not null)
            {
                int before = w.Rules;
                _rules.WriteChainRules(w, current);
                _renderedCounts[current.ServiceChain] = _renderedCounts[current.ServiceChain] with { NatChains = w.Rules - before };
            }
        }

        EndNat(w);
    }

    // Deletes the old shared-chain rules of changed ports before inserting the new ones; ports whose shared rules
    // did not change (only their endpoints did) keep them untouched.
    private void WriteEntryChanges(
        Action<RestoreWriter, IptablesRuleWriter.Op, ServicePortState> write,
        Func<(int Filter, int NatEntries, int NatChains), int, (int, int, int)> count)
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
                int before = Document.Rules;
                write(Document, IptablesRuleWriter.Op.Insert, current);
                _renderedCounts[current.ServiceChain] = count(_renderedCounts[current.ServiceChain], Document.Rules - before);
            }
        }
    }

    private void EndNat(RestoreWriter w)
    {
        foreach (string chain in _stale)
        {
            IptablesRuleWriter.DeleteChain(w, chain);
        }

        w.Append("COMMIT").EndLine();
    }

    private static bool IsServiceChain(string chain) =>
        ServiceChainPrefixes.Any(prefix => chain.StartsWith(prefix, StringComparison.Ordinal));
}
