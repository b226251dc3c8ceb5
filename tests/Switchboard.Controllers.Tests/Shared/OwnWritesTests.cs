using System.Net;
using System.Runtime.CompilerServices;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Informers;
using Switchboard.Testing;

namespace Switchboard.Controllers.Tests.Shared;

/// <summary>
/// OwnWrites against the real API server, with an informer whose watch is held back on demand: the cache lags the
/// writes for as long as a test wants, which is what a controller meets during a burst.
/// </summary>
public sealed class OwnWritesTests : IClassFixture<InProcessApiServer>, IDisposable
{
    private readonly InProcessApiServer _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly string _ns = "own-" + Guid.NewGuid().ToString("N")[..8];
    private TaskCompletionSource _gate = Open();

    public OwnWritesTests(InProcessApiServer server) => _server = server;

    private IKubernetes Client => _server.Client;

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    [Fact]
    public async Task A_second_write_before_the_informer_shows_the_first_starts_from_the_first_and_succeeds()
    {
        var (informer, written) = await StartAsync();
        HoldWatch();

        var created = await written.WriteAsync(Endpoints("first", "10.0.0.1"), () => Client.CoreV1.CreateNamespacedEndpointsAsync(Endpoints("first", "10.0.0.1"), _ns));
        Assert.Null(informer.Cache.Get(_ns, "first"));
        var current = written.Get(ObjectKey.Of(_ns, "first"));
        Assert.Equal(created.Metadata.ResourceVersion, current?.Metadata.ResourceVersion);

        // Without the tracker this replace would carry no resourceVersion the server still has: 409 Conflict.
        var next = Endpoints("first", "10.0.0.2");
        next.Metadata.ResourceVersion = current!.Metadata.ResourceVersion;
        var replaced = await written.WriteAsync(next, () => Client.CoreV1.ReplaceNamespacedEndpointsAsync(next, "first", _ns));
        Assert.Equal(replaced.Metadata.ResourceVersion, written.Get(ObjectKey.Of(_ns, "first"))?.Metadata.ResourceVersion);

        ReleaseWatch();
        await Eventually.WaitAsync(() => informer.Cache.Get(_ns, "first") is { } cached && ReferenceEquals(cached, written.Get(ObjectKey.Of(_ns, "first"))),
            "the cache catching up and the tracker handing out the cache's object again");
        Assert.Equal("10.0.0.2", informer.Cache.Get(_ns, "first")!.Subsets.Single().Addresses.Single().Ip);
    }

    [Fact]
    public async Task A_write_that_loses_to_someone_else_forgets_its_version_so_the_retry_starts_from_the_cache()
    {
        var (informer, written) = await StartAsync();
        HoldWatch();
        var created = await written.WriteAsync(Endpoints("contested", "10.0.1.1"), () => Client.CoreV1.CreateNamespacedEndpointsAsync(Endpoints("contested", "10.0.1.1"), _ns));
        var theirs = Endpoints("contested", "10.0.1.9");
        theirs.Metadata.ResourceVersion = created.Metadata.ResourceVersion;
        await Client.CoreV1.ReplaceNamespacedEndpointsAsync(theirs, "contested", _ns);

        var mine = Endpoints("contested", "10.0.1.2");
        mine.Metadata.ResourceVersion = created.Metadata.ResourceVersion;
        var error = await Assert.ThrowsAsync<HttpOperationException>(() => written.WriteAsync(mine, () => Client.CoreV1.ReplaceNamespacedEndpointsAsync(mine, "contested", _ns)));
        Assert.Equal(HttpStatusCode.Conflict, error.Response.StatusCode);
        Assert.Null(written.Get(ObjectKey.Of(_ns, "contested")));

        ReleaseWatch();
        await Eventually.WaitAsync(() => written.Get(ObjectKey.Of(_ns, "contested"))?.Subsets.Single().Addresses.Single().Ip == "10.0.1.9", "the other writer's version from the cache");
        Assert.NotNull(informer.Cache.Get(_ns, "contested"));
    }

    [Fact]
    public async Task Own_deletions_and_creations_show_in_the_overlay_before_the_informer_sees_them()
    {
        var (informer, written) = await StartAsync();
        await Client.CoreV1.CreateNamespacedEndpointsAsync(Endpoints("old", "10.0.2.1"), _ns);
        await Eventually.WaitAsync(() => informer.Cache.Get(_ns, "old") is not null, "the informer showing the first object");
        HoldWatch();

        await Client.CoreV1.DeleteNamespacedEndpointsAsync("old", _ns);
        written.Deleted(ObjectKey.Of(_ns, "old"));
        await written.WriteAsync(Endpoints("new", "10.0.2.2"), () => Client.CoreV1.CreateNamespacedEndpointsAsync(Endpoints("new", "10.0.2.2"), _ns));

        Assert.NotNull(informer.Cache.Get(_ns, "old"));
        Assert.Null(written.Get(ObjectKey.Of(_ns, "old")));
        Assert.Equal(["new"], written.Overlay(informer.Cache.InNamespace(_ns), e => e.Metadata.NamespaceProperty == _ns).Select(e => e.Metadata.Name));
        Assert.Empty(written.Overlay(informer.Cache.InNamespace(_ns), _ => false));

        ReleaseWatch();
        await Eventually.WaitAsync(() => informer.Cache.Get(_ns, "old") is null && informer.Cache.Get(_ns, "new") is not null, "the informer catching up");
        Assert.Equal(["new"], written.Overlay(informer.Cache.InNamespace(_ns), _ => true).Select(e => e.Metadata.Name));
    }

    private static TaskCompletionSource Open()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }

    private void HoldWatch() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    private void ReleaseWatch() => _gate.TrySetResult();

    /// <summary>The test's namespace, and an informer on Endpoints with the tracker over it, synced.</summary>
    private async Task<(Informer<V1Endpoints> Informer, OwnWrites<V1Endpoints> Written)> StartAsync()
    {
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = _ns } });
        var real = ListWatches.Endpoints(Client);
        var informer = new Informer<V1Endpoints>(new ListWatch<V1Endpoints>(real.List, (rv, timeout, onError, ct) => HeldBack(real.Watch(rv, timeout, onError, ct), ct)), NullLogger.Instance);
        var written = new OwnWrites<V1Endpoints>(informer);
        _ = informer.RunAsync(_stop.Token);
        await informer.WaitForSyncAsync(_stop.Token);
        return (informer, written);
    }

    private async IAsyncEnumerable<(WatchEventType Type, V1Endpoints Object)> HeldBack(IAsyncEnumerable<(WatchEventType, V1Endpoints)> events, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var e in events.WithCancellation(cancellationToken))
        {
            await _gate.Task.WaitAsync(cancellationToken);
            yield return e;
        }
    }

    private V1Endpoints Endpoints(string name, string ip) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = _ns },
        Subsets = [new V1EndpointSubset { Addresses = [new V1EndpointAddress { Ip = ip }], Ports = [new Corev1EndpointPort { Port = 80 }] }],
    };
}
