using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.ApiServer.Tests.Client;
using Switchboard.ApiServer.Tests.Support;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Restart;

/// <summary>
/// SIGKILL the API server process (even with creates in flight) and start it again on the same data dir: every object
/// and every ClusterIP is still there, and no ClusterIP is ever handed out twice. The range is a /26 so that a lost
/// allocation bitmap would quickly hand out a taken address again.
/// </summary>
public abstract class CrashRestartTests : IDisposable
{
    private const string Namespace = "crash";
    private readonly TempDirectory _dir = new("sb-crash-");

    protected abstract string Store { get; }

    [Fact]
    public async Task Objects_and_cluster_ips_survive_sigkill_and_no_ip_is_allocated_twice()
    {
        using var server = new ApiServerProcess(_dir.Path, Store, "--service-cluster-ip-range", "10.96.0.0/26");
        await server.StartAsync();
        var before = new Dictionary<string, (string Uid, string Ip)>();
        using (var client = server.NewClient())
        {
            await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } });
            for (int i = 0; i < 10; i++)
            {
                var svc = await client.CoreV1.CreateNamespacedServiceAsync(ClientTests<SqliteApiServer>.Service($"before-{i}", 80), Namespace);
                before[svc.Metadata.Name] = (svc.Metadata.Uid, svc.Spec.ClusterIP);
            }

            // Creates still in flight when the process dies: some land, some fail; none may share an address later.
            var inFlight = Enumerable.Range(0, 10).Select(i => CreateIgnoringFailureAsync(client, $"inflight-{i}")).ToList();
            await Task.WhenAny(inFlight);
            server.Kill();
            await Task.WhenAll(inFlight);
        }

        await server.StartAsync();
        using (var client = server.NewClient())
        {
            var services = await client.CoreV1.ListNamespacedServiceAsync(Namespace);
            foreach (var (name, (uid, ip)) in before)
            {
                var svc = Assert.Single(services.Items, s => s.Metadata.Name == name);
                Assert.Equal(uid, svc.Metadata.Uid);
                Assert.Equal(ip, svc.Spec.ClusterIP);
            }

            var namespaces = await client.CoreV1.ListNamespaceAsync();
            Assert.Superset(new HashSet<string> { "default", "kube-system", "kube-public", Namespace }, namespaces.Items.Select(n => n.Metadata.Name).ToHashSet());
            var kubernetes = await client.CoreV1.ReadNamespacedServiceAsync("kubernetes", "default");
            Assert.Equal("10.96.0.1", kubernetes.Spec.ClusterIP);

            for (int i = 0; i < 10; i++)
            {
                await client.CoreV1.CreateNamespacedServiceAsync(ClientTests<SqliteApiServer>.Service($"after-{i}", 80), Namespace);
            }

            var all = (await client.CoreV1.ListServiceForAllNamespacesAsync()).Items;
            var ips = all.Select(s => s.Spec.ClusterIP).ToList();
            Assert.Equal(ips.Count, ips.Distinct().Count());
            Assert.True(all.Count >= 21, $"expected kubernetes + 10 before + 10 after, got {all.Count}");
        }
    }

    public void Dispose()
    {
        _dir.Dispose();
        GC.SuppressFinalize(this);
    }

    private static async Task CreateIgnoringFailureAsync(Kubernetes client, string name)
    {
        try
        {
            await client.CoreV1.CreateNamespacedServiceAsync(ClientTests<SqliteApiServer>.Service(name, 80), Namespace);
        }
        catch (Exception e) when (e is HttpRequestException or HttpOperationException or IOException or TaskCanceledException)
        {
            // Cut off by the kill: whether it landed is for the store to say after the restart.
        }
    }
}
