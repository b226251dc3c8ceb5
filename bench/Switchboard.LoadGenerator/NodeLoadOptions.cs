using System.Globalization;

namespace Switchboard.LoadGenerator;

internal sealed record NodeLoadOptions(string Kubeconfig, IReadOnlyList<int> Counts, TimeSpan Timeout)
{
    public static NodeLoadOptions Parse(ReadOnlySpan<string> args)
    {
        string? kubeconfig = null;
        int[] counts = [10, 50];
        int timeoutSeconds = 300;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            switch (args[i])
            {
                case "--kubeconfig": kubeconfig = value; break;
                case "--counts": counts = [.. value.Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))]; break;
                case "--timeout-seconds": timeoutSeconds = int.Parse(value, CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        if (kubeconfig is null)
        {
            throw new ArgumentException("--kubeconfig is required");
        }

        return new NodeLoadOptions(kubeconfig, counts, TimeSpan.FromSeconds(timeoutSeconds));
    }
}
