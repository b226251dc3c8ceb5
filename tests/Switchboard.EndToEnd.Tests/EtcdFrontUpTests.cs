using System.Globalization;
using System.Text.Json;
using Switchboard.Testing;

namespace Switchboard.EndToEnd.Tests;

/// <summary>
/// The seed's DNS story ends in etcd: with <c>switchboard up</c>'s default embedded store, etcdctl and curl read the
/// kube2sky record of the seed's backend Service through the etcd front, with the credentials <c>up</c> wrote.
/// </summary>
public sealed class EtcdFrontUpTests : SwitchboardUpTestBase
{
    [Fact]
    public async Task Etcdctl_and_curl_read_the_backend_services_skydns_record_on_the_embedded_store()
    {
        await Up.Kubectl.OutputAsync("create", "namespace", "critical-app");
        await Up.Kubectl.OutputAsync("create", "-f", SharedFiles.Example("backend.yaml"), "-n", "critical-app");
        string ip = await Up.Kubectl.OutputAsync("get", "service", "backend", "-n", "critical-app", "-o", "jsonpath={.spec.clusterIP}");
        string ca = Path.Combine(Up.DataDirectory, "ca.crt");
        string cert = Path.Combine(Up.DataDirectory, "etcd-client.crt");
        string key = Path.Combine(Up.DataDirectory, "etcd-client.key");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, new FileInfo(key).UnixFileMode);
        string endpoint = "https://127.0.0.1:" + Up.EtcdPort.ToString(CultureInfo.InvariantCulture);
        Assert.Contains($"etcdctl --endpoints {endpoint} --cacert {ca} --cert {cert} --key {key}", Up.Log, StringComparison.Ordinal);

        const string backend = "/skydns/local/cluster/svc/critical-app/backend";
        ProcessResult? get = null;
        await Eventually.WaitAsync(
            async () => (get = await ChildProcess.RunAsync("etcdctl", ["--endpoints", endpoint, "--cacert", ca, "--cert", cert, "--key", key, "get", backend, "--prefix"], new Dictionary<string, string> { ["ETCDCTL_API"] = "3" }))
                .Stdout.Contains(backend + "/", StringComparison.Ordinal),
            "the kube2sky record of the backend Service");
        string record = get!.EnsureSuccess("etcdctl get").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1];
        Assert.Equal(ip, JsonDocument.Parse(record).RootElement.GetProperty("host").GetString());

        // The seed's own request: SkyDNS asks etcd's v2 keys API.
        var curl = (await ChildProcess.RunAsync("curl", ["-s", "--cacert", ca, "--cert", cert, "--key", key, $"{endpoint}/v2/keys{backend}?recursive=true"])).EnsureSuccess("curl");
        var node = JsonDocument.Parse(curl.Stdout).RootElement.GetProperty("node");
        Assert.Equal(backend, node.GetProperty("key").GetString());
        var leaf = node.GetProperty("nodes")[0];
        Assert.Equal(ip, JsonDocument.Parse(leaf.GetProperty("value").GetString()!).RootElement.GetProperty("host").GetString());
    }
}
