using Switchboard.ProxyBench.Nftables;

namespace Switchboard.ProxyBench;

internal static class Program
{
    private const string Usage = """
        usage: Switchboard.ProxyBench nftables --node NS --client NS --backends NS,NS,NS --backend-ips IP,IP,IP [--services 10000] [--updates 31] [--connects 2000]
        """;

    private static async Task<int> Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "nftables":
                await NftablesBench.RunAsync(NftablesBenchOptions.Parse(args.AsSpan(1)), Console.Out);
                return 0;
            default:
                await Console.Error.WriteLineAsync(Usage);
                return 2;
        }
    }
}
