using System.Globalization;

namespace Switchboard.ProxyBench.Nftables;

/// <summary>The namespaces bench/proxy-nftables.sh made and how much to measure.</summary>
internal sealed record NftablesBenchOptions(
    string Node, string Client, string[] Backends, string[] BackendIps, int Services, int Updates, int Connects)
{
    public const int BackendPort = 8080;

    public static NftablesBenchOptions Parse(ReadOnlySpan<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            values[args[i]] = args[i + 1];
        }

        string Required(string name) => values.TryGetValue(name, out string? value) ? value : throw new ArgumentException($"{name} is required");
        int Number(string name, int fallback) => values.TryGetValue(name, out string? value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;
        var options = new NftablesBenchOptions(
            Required("--node"), Required("--client"), Required("--backends").Split(','), Required("--backend-ips").Split(','),
            Number("--services", 10_000), Number("--updates", 31), Number("--connects", 2000));
        return options.Backends.Length == options.BackendIps.Length && options.Services >= 2 * (options.Updates + 1)
            ? options
            : throw new ArgumentException("one IP per backend namespace, and at least 2 × (updates + 1) services");
    }
}
