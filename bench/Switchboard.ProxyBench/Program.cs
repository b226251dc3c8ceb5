using System.Globalization;
using Switchboard.ProxyBench.Iptables;
using Switchboard.ProxyBench.Nftables;

namespace Switchboard.ProxyBench;

/// <summary>The driver of the proxy's scripted benchmarks: bench/proxy.sh (iptables) and bench/proxy-nftables.sh.</summary>
internal static class Program
{
    private const string Usage = """
        usage: Switchboard.ProxyBench documents --count N --out DIR
               Switchboard.ProxyBench sync --count N --netns NS
               Switchboard.ProxyBench nftables --node NS --client NS --backends NS,NS,NS --backend-ips IP,IP,IP [--services 10000] [--updates 31] [--connects 2000]
        """;

    private static async Task<int> Main(string[] args)
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 1; i + 1 < args.Length; i += 2)
        {
            flags[args[i]] = args[i + 1];
        }

        int count = int.Parse(flags.GetValueOrDefault("--count", "10000"), CultureInfo.InvariantCulture);
        switch (args.FirstOrDefault())
        {
            case "documents":
                IptablesBench.WriteDocuments(count, flags["--out"]);
                return 0;
            case "sync":
                await IptablesBench.SyncAsync(count, flags["--netns"]);
                return 0;
            case "nftables":
                await NftablesBench.RunAsync(NftablesBenchOptions.Parse(args.AsSpan(1)), Console.Out);
                return 0;
            default:
                await Console.Error.WriteLineAsync(Usage);
                return 2;
        }
    }
}
