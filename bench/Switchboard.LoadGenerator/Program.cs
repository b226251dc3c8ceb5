namespace Switchboard.LoadGenerator;

internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "storage":
                await StorageLoad.RunAsync(StorageLoadOptions.Parse(args.AsSpan(1)), Console.Out);
                return 0;
            case "apiserver":
                await ApiServerLoad.RunAsync(ApiServerLoadOptions.Parse(args.AsSpan(1)), Console.Out);
                return 0;
            default:
                await Console.Error.WriteLineAsync(
                    "usage: Switchboard.LoadGenerator storage --store sqlite|etcd://HOST:PORT --sqlite-file PATH [--writers 16] [--seconds 30] [--value-bytes 1024] [--watch-samples 1000]\n" +
                    "       Switchboard.LoadGenerator apiserver --kubeconfig PATH [--clients 8] [--services 2000] [--lists 5]");
                return 2;
        }
    }
}
