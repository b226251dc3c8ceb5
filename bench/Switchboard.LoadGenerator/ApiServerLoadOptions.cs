using System.Globalization;

namespace Switchboard.LoadGenerator;

internal sealed record ApiServerLoadOptions(string Kubeconfig, int Clients, int Services, int Lists)
{
    public static ApiServerLoadOptions Parse(ReadOnlySpan<string> args)
    {
        string? kubeconfig = null;
        int clients = 8, services = 2000, lists = 5;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            switch (args[i])
            {
                case "--kubeconfig": kubeconfig = value; break;
                case "--clients": clients = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--services": services = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--lists": lists = int.Parse(value, CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        return new ApiServerLoadOptions(kubeconfig ?? throw new ArgumentException("--kubeconfig is required"), clients, services, lists);
    }
}
