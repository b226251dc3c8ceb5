using System.Globalization;

namespace Switchboard.LoadGenerator;

internal sealed record UiLoadOptions(string Kubeconfig, int Pid, string DnsAddress, int Services, int Browsers, int Rate, TimeSpan Window, int Samples, string Chromium, TimeSpan Timeout)
{
    public static UiLoadOptions Parse(ReadOnlySpan<string> args)
    {
        string? kubeconfig = null, dns = null, chromium = "/usr/bin/chromium";
        int pid = 0, services = 1000, browsers = 5, rate = 1000, seconds = 20, samples = 20, timeoutSeconds = 900;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            switch (args[i])
            {
                case "--kubeconfig": kubeconfig = value; break;
                case "--pid": pid = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--dns": dns = value; break;
                case "--services": services = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--browsers": browsers = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--rate": rate = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--samples": samples = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--chromium": chromium = value; break;
                case "--timeout-seconds": timeoutSeconds = int.Parse(value, CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        if (kubeconfig is null || pid == 0 || dns is null)
        {
            throw new ArgumentException("--kubeconfig, --pid and --dns are required");
        }

        return new UiLoadOptions(kubeconfig, pid, dns, services, browsers, rate, TimeSpan.FromSeconds(seconds), samples, chromium, TimeSpan.FromSeconds(timeoutSeconds));
    }
}
