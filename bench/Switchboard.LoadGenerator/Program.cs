namespace Switchboard.LoadGenerator;

internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args[0] != "storage")
        {
            await Console.Error.WriteLineAsync("usage: Switchboard.LoadGenerator storage --store sqlite|etcd://HOST:PORT --sqlite-file PATH [--writers 16] [--seconds 30] [--value-bytes 1024] [--watch-samples 1000]");
            return 2;
        }

        var options = StorageLoadOptions.Parse(args.AsSpan(1));
        await StorageLoad.RunAsync(options, Console.Out);
        return 0;
    }
}
