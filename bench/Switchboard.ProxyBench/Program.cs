namespace Switchboard.ProxyBench;

/// <summary>The driver of bench/proxy.sh (its commands land with the iptables proxier's readback and canary work).</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        Console.Error.WriteLine($"usage: Switchboard.ProxyBench COMMAND (got {args.Length} arguments)");
        return 2;
    }
}
