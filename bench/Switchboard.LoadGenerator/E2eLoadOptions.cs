using System.Globalization;

namespace Switchboard.LoadGenerator;

internal sealed record E2eLoadOptions(string Kubeconfig, int Pid, int Services, int Samples, TimeSpan Timeout)
{
    public static E2eLoadOptions Parse(ReadOnlySpan<string> args)
    {
        string? kubeconfig = null;
        int pid = 0, services = 1000, samples = 50, timeoutSeconds = 600;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            switch (args[i])
            {
                case "--kubeconfig": kubeconfig = value; break;
                case "--pid": pid = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--services": services = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--samples": samples = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--timeout-seconds": timeoutSeconds = int.Parse(value, CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        if (kubeconfig is null || pid == 0)
        {
            throw new ArgumentException("--kubeconfig and --pid are required");
        }

        return new E2eLoadOptions(kubeconfig, pid, services, samples, TimeSpan.FromSeconds(timeoutSeconds));
    }
}
