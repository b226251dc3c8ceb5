namespace Switchboard.LoadGenerator;

internal static class Program
{
    private const string Usage = """
        usage: Switchboard.LoadGenerator storage --store sqlite|etcd://HOST:PORT --sqlite-file PATH [--writers 16] [--seconds 30] [--value-bytes 1024] [--watch-samples 1000]
               Switchboard.LoadGenerator etcd-front --store etcd://HOST:PORT [--clients 1] [--seconds 10] [--value-bytes 1024] [--range-keys 0] [--watch-samples 0]
               Switchboard.LoadGenerator controllers --kubeconfig FILE [--deployments 500] [--replicas 3] [--nodes 8] [--node-workers 4] [--create-parallelism 16] [--flips 300] [--flip-parallelism 4] [--timeout-seconds 600]
               Switchboard.LoadGenerator apiserver --kubeconfig PATH [--clients 8] [--services 2000] [--lists 5] [--user NAME --token TOKEN]
               Switchboard.LoadGenerator node --kubeconfig FILE [--counts 10,50] [--timeout-seconds 300]
               Switchboard.LoadGenerator e2e --kubeconfig FILE --pid PID [--services 1000] [--samples 50] [--timeout-seconds 600]
               Switchboard.LoadGenerator ui --kubeconfig FILE --pid PID --dns ADDR:PORT [--services 1000] [--browsers 5] [--rate 1000] [--seconds 20] [--samples 20] [--chromium /usr/bin/chromium]
        """;

    private static async Task<int> Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "storage":
                await StorageLoad.RunAsync(StorageLoadOptions.Parse(args.AsSpan(1)), Console.Out);
                return 0;
            case "etcd-front":
                await EtcdFrontLoad.RunAsync(EtcdFrontLoadOptions.Parse(args.AsSpan(1)), Console.Out);
                return 0;
            case "controllers":
                return await ControllersLoad.RunAsync(ControllersLoadOptions.Parse(args.AsSpan(1)), Console.Out);
            case "apiserver":
                await ApiServerLoad.RunAsync(ApiServerLoadOptions.Parse(args.AsSpan(1)), Console.Out);
                return 0;
            case "node":
                return await NodeLoad.RunAsync(NodeLoadOptions.Parse(args.AsSpan(1)), Console.Out);
            case "e2e":
                return await E2eLoad.RunAsync(E2eLoadOptions.Parse(args.AsSpan(1)), Console.Out);
            case "ui":
                return await UiLoad.RunAsync(UiLoadOptions.Parse(args.AsSpan(1)), Console.Out);
            case "apiserver-watch" when args.Length == 5:
                // Started by the apiserver workload itself: KUBECONFIG NAMESPACE RESOURCE_VERSION EXPECTED.
                await ApiServerLoad.WatchAsync(args[1], args[2], args[3], int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture), Console.Out);
                return 0;
            default:
                await Console.Error.WriteLineAsync(Usage);
                return 2;
        }
    }
}
