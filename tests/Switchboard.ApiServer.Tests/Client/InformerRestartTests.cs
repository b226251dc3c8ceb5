using k8s;
using k8s.Models;
using Switchboard.ApiServer.Tests.Support;

namespace Switchboard.ApiServer.Tests.Client;

/// <summary>A list-then-watch informer on KubernetesClient keeps working across a stop and start of the server.</summary>
public abstract class InformerRestartTests<TServer> : IClassFixture<TServer>
    where TServer : ApiServerFixture
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly TServer _server;

    protected InformerRestartTests(TServer server) => _server = server;

    [Fact]
    public async Task Informer_relists_and_sees_an_object_created_after_the_server_restarts()
    {
        using var client = _server.NewClient();
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "informed" } });
        await using var informer = new ServiceInformer(client, "informed");
        await client.CoreV1.CreateNamespacedServiceAsync(ClientTests<TServer>.Service("before", 80), "informed");
        await informer.WaitForAsync("before", Deadline);
        int listsBefore = informer.Lists;

        await _server.StopAsync();
        await _server.StartAsync();
        using var after = _server.NewClient();
        await after.CoreV1.CreateNamespacedServiceAsync(ClientTests<TServer>.Service("after", 80), "informed");

        await informer.WaitForAsync("after", Deadline);
        Assert.True(informer.Lists > listsBefore, "the informer saw the new object without listing again");
    }
}
