using System.Globalization;

namespace Switchboard.LoadGenerator;

internal sealed record ControllersLoadOptions(string Kubeconfig, int Deployments, int Replicas, int Nodes, int NodeWorkers, int CreateParallelism, int Flips, int FlipParallelism, TimeSpan Timeout)
{
    public static ControllersLoadOptions Parse(ReadOnlySpan<string> args)
    {
        string? kubeconfig = null;
        int deployments = 500, replicas = 3, nodes = 8, nodeWorkers = 4, parallelism = 16, flips = 300, flipParallelism = 4, timeoutSeconds = 600;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            switch (args[i])
            {
                case "--kubeconfig": kubeconfig = value; break;
                case "--deployments": deployments = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--replicas": replicas = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--nodes": nodes = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--node-workers": nodeWorkers = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--create-parallelism": parallelism = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--flips": flips = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--flip-parallelism": flipParallelism = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--timeout-seconds": timeoutSeconds = int.Parse(value, CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        if (kubeconfig is null)
        {
            throw new ArgumentException("--kubeconfig is required");
        }

        return new ControllersLoadOptions(kubeconfig, deployments, replicas, nodes, nodeWorkers, parallelism, flips, flipParallelism, TimeSpan.FromSeconds(timeoutSeconds));
    }
}
