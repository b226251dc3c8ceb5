using System.Globalization;

namespace Switchboard.LoadGenerator;

/// <summary>
/// The API server workload's options. With a user and its token, the creating clients authenticate as that user of the
/// server's token file, bound to the edit ClusterRole in the namespace, so each create goes through RBAC (else as the admin).
/// </summary>
internal sealed record ApiServerLoadOptions(string Kubeconfig, int Clients, int Services, int Lists, string? User = null, string? Token = null)
{
    public static ApiServerLoadOptions Parse(ReadOnlySpan<string> args)
    {
        string? kubeconfig = null;
        int clients = 8, services = 2000, lists = 5;
        string? user = null, token = null;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            switch (args[i])
            {
                case "--kubeconfig": kubeconfig = value; break;
                case "--clients": clients = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--services": services = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--lists": lists = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--user": user = value; break;
                case "--token": token = value; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        if ((user is null) != (token is null))
        {
            throw new ArgumentException("--user and --token go together");
        }

        return new ApiServerLoadOptions(kubeconfig ?? throw new ArgumentException("--kubeconfig is required"), clients, services, lists, user, token);
    }
}
