namespace Switchboard.DnsBench;

/// <summary>
/// <c>populate --kubeconfig FILE --dns ADDR:PORT --count N --out DIR</c>: creates N services, timing each until the DNS
/// server answers it, and writes the query file and unbound's local-data for the same names. The servers bench/dns.sh
/// measures are the shipped <c>switchboard apiserver</c> and <c>switchboard dns</c>, not wired here.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        Dictionary<string, string> flags = Flags(args.AsSpan(1));
        if (args.FirstOrDefault() != "populate")
        {
            await Console.Error.WriteLineAsync("usage: Switchboard.DnsBench populate --kubeconfig FILE --dns ADDR:PORT --count N --out DIR (see bench/dns.sh)");
            return 2;
        }

        await Populate.RunAsync(flags["--kubeconfig"], System.Net.IPEndPoint.Parse(flags["--dns"]),
            int.Parse(flags["--count"], System.Globalization.CultureInfo.InvariantCulture), flags["--out"], Console.Out);
        return 0;
    }

    private static Dictionary<string, string> Flags(ReadOnlySpan<string> args)
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            flags[args[i]] = args[i + 1];
        }

        return flags;
    }
}
