using System.CommandLine;
using Switchboard.Dns;
using Switchboard.Dns.Forwarding;
using Switchboard.Kube.Hosting;
using Switchboard.Storage;

namespace Switchboard.Commands;

/// <summary><c>switchboard dns</c>: the cluster DNS server alone, against any Kubernetes API server.</summary>
internal static class DnsCommand
{
    public static Command Create()
    {
        var kubeconfig = CommonOptions.Kubeconfig();
        var listen = DnsFlags.EndPoints("--listen", "UDP+TCP address to serve DNS on, ADDR:PORT, repeatable", "127.0.0.1:1053");
        var metrics = DnsFlags.EndPoint("--metrics", "Address of /metrics, /health and /ready", "127.0.0.1:9153");
        var skyDnsStore = new Option<StoreLocation?>("--skydns-store")
        {
            Description = "etcd://HOST:PORT[,…] holding /skydns records to serve, and where Services are mirrored as kube2sky did",
            CustomParser = result => StoreLocation.Parse(result.Tokens[0].Value),
        };
        var dns = new DnsFlags();
        var command = new Command("dns", "Run the cluster DNS server alone") { kubeconfig, listen, metrics, skyDnsStore };
        dns.AddTo(command);
        command.Validators.Add(result =>
        {
            if (result.GetValue(skyDnsStore) is { IsEtcd: false })
            {
                result.AddError("--skydns-store must be etcd://…: the embedded store belongs to the process that runs it");
            }
        });
        command.SetAction(async (result, cancellationToken) =>
        {
            using var loggerFactory = Logging.CreateFactory();
            await using var store = result.GetValue(skyDnsStore) is { } location
                ? await KeyValueStoreFactory.OpenAsync(location, sqliteFile: "", loggerFactory, etcdOptions: null, cancellationToken)
                : null;
            var options = dns.Read(result, result.GetRequiredValue(listen), result.GetValue(metrics), ForwarderOptions.DefaultClientNetworks);
            string path = result.GetRequiredValue(kubeconfig).FullName;
            return await ComponentHost.RunAsync(loggerFactory, services => services.AddKubeClient(path).AddClusterDns(options, store));
        });
        return command;
    }
}
