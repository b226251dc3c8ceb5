namespace Switchboard.Proxy.Iptables;

/// <summary>
/// The rules of an <c>iptables-save</c> dump (or of a restore document), by table and chain, each rule in the
/// canonical form of <see cref="RuleText.Canonical"/>, so what the kernel has compares with what would be written.
/// </summary>
internal sealed class SavedRules
{
    private readonly Dictionary<(string Table, string Chain), List<string>> _chains = [];

    /// <summary>Whether <paramref name="table"/> has <paramref name="chain"/>.</summary>
    public bool HasChain(string table, string chain) => _chains.ContainsKey((table, chain));

    /// <summary>The chains of <paramref name="table"/>.</summary>
    public IEnumerable<string> Chains(string table) => _chains.Keys.Where(k => k.Table == table).Select(k => k.Chain);

    /// <summary>The canonical rules of a chain, in order; null when the table has no such chain.</summary>
    public IReadOnlyList<string>? Rules(string table, string chain) => _chains.GetValueOrDefault((table, chain));

    /// <summary>
    /// Reads a dump: <c>*table</c> starts a table, <c>:CHAIN</c> declares a chain, <c>-A CHAIN …</c> appends a
    /// rule to it. Other lines (comments, COMMIT, and in a restore document <c>-X</c>) declare nothing.
    /// </summary>
    public static SavedRules Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var rules = new SavedRules();
        string table = "";
        foreach (string line in text.Split('\n'))
        {
            if (line.StartsWith('*'))
            {
                table = line[1..].Trim();
            }
            else if (line.StartsWith(':'))
            {
                int space = line.IndexOf(' ', StringComparison.Ordinal);
                rules.Chain(table, space < 0 ? line[1..] : line[1..space]);
            }
            else if (line.StartsWith("-A ", StringComparison.Ordinal))
            {
                int space = line.IndexOf(' ', 3);
                string chain = space < 0 ? line[3..] : line[3..space];
                rules.Chain(table, chain).Add(RuleText.Canonical(space < 0 ? "" : line[(space + 1)..]));
            }
        }

        return rules;
    }

    private List<string> Chain(string table, string chain)
    {
        if (!_chains.TryGetValue((table, chain), out var rules))
        {
            rules = [];
            _chains[(table, chain)] = rules;
        }

        return rules;
    }
}
