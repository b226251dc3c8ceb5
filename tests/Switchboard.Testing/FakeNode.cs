using System.Diagnostics;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Kube.Informers;
using Switchboard.Kube.Queues;

namespace Switchboard.Testing;

/// <summary>
/// A stand-in for a node agent (tests and the controllers benchmark only): registers a Ready node, starts every pod
/// bound to it (Running, Ready, an IP from the node's 10.244.SUBNET.0/24, written through pods/status), completes
/// the graceful deletion of its pods, and renews its Lease in kube-node-lease as kubelet does (which a test may pause,
/// as a node that dies).
/// </summary>
public sealed class FakeNode : IAsyncDisposable
{
    private readonly IKubernetes _client;
    private readonly WorkQueue<string> _queue = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Informer<V1Pod> _pods;
    private readonly Task _run;
    private readonly int _subnet;
    private readonly Action<PodStarted>? _onStarted;
    private int _nextIp = 1;
    private volatile bool _heartbeatsPaused;

    private FakeNode(IKubernetes client, string name, int subnet, int workers, Action<PodStarted>? onStarted)
    {
        _client = client;
        Name = name;
        _subnet = subnet;
        _onStarted = onStarted;
        _pods = new Informer<V1Pod>(ListWatches.Pods(client, $"spec.nodeName={name}"), NullLogger.Instance);
        _pods.AddHandler(p => _queue.Add(ObjectKey.Of(p)), (_, p) => _queue.Add(ObjectKey.Of(p)));
        _run = Task.WhenAll(_pods.RunAsync(_stop.Token), QueueWorkers.RunAsync(_queue, workers, SyncAsync, NullLogger.Instance, _stop.Token), HeartbeatAsync(_stop.Token));
    }

    public string Name { get; }

    /// <summary>
    /// Registers node <paramref name="name"/> with pod CIDR 10.244.<paramref name="subnet"/>.0/24 and starts its pods
    /// with <paramref name="workers"/> concurrent status writes; <paramref name="onStarted"/> hears of each pod made Ready.
    /// </summary>
    public static async Task<FakeNode> StartAsync(IKubernetes client, string name, int subnet = 0, int workers = 4, Action<PodStarted>? onStarted = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        var node = new V1Node
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["kubernetes.io/hostname"] = name } },
            Spec = new V1NodeSpec { PodCIDR = $"10.244.{subnet}.0/24" },
        };
        await client.CoreV1.CreateNodeAsync(node);
        await client.CoreV1.PatchNodeStatusAsync(new V1Patch(ReadyStatus().ToJsonString(), V1Patch.PatchType.MergePatch), name);
        await client.CoordinationV1.CreateNamespacedLeaseAsync(new V1Lease
        {
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new V1LeaseSpec { HolderIdentity = name, LeaseDurationSeconds = 40, RenewTime = DateTime.UtcNow },
        }, "kube-node-lease");
        var fake = new FakeNode(client, name, subnet, workers, onStarted);
        await fake._pods.WaitForSyncAsync(CancellationToken.None);
        return fake;
    }

    /// <summary>How often the Lease is renewed: every second (kubelet's is 10 s), so tests may use a grace period of a few.</summary>
    public static TimeSpan HeartbeatInterval { get; } = TimeSpan.FromSeconds(1);

    /// <summary>Stops renewing the Lease and completing deletions, as a node whose agent died.</summary>
    public void PauseHeartbeats() => _heartbeatsPaused = true;

    /// <summary>Renews the Lease again, reports Ready and goes back over its pods, as a node agent started again.</summary>
    public async Task ResumeHeartbeatsAsync()
    {
        await _client.CoreV1.PatchNodeStatusAsync(new V1Patch(ReadyStatus().ToJsonString(), V1Patch.PatchType.MergePatch), Name);
        _heartbeatsPaused = false;
        foreach (var pod in _pods.Cache.List())
        {
            _queue.Add(ObjectKey.Of(pod));
        }
    }

    /// <summary>Flips the pod's Ready condition (and its container's readiness), as a readiness probe would.</summary>
    public Task SetReadyAsync(string ns, string pod, bool ready) =>
        _client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(Status(ready, podIp: null).ToJsonString(), V1Patch.PatchType.MergePatch), pod, ns);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _queue.ShutDown();
        await _run;
        _queue.Dispose();
        _stop.Dispose();
    }

    private static JsonObject ReadyStatus() => new()
    {
        ["status"] = new JsonObject
        {
            ["conditions"] = new JsonArray(new JsonObject
            {
                ["type"] = "Ready", ["status"] = "True", ["reason"] = "KubeletReady", ["message"] = "test node",
                ["lastHeartbeatTime"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
            }),
            ["addresses"] = new JsonArray(new JsonObject { ["type"] = "InternalIP", ["address"] = "127.0.0.1" }),
        },
    };

    private async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(HeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                if (_heartbeatsPaused)
                {
                    continue;
                }

                var renew = new JsonObject { ["spec"] = new JsonObject { ["renewTime"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", System.Globalization.CultureInfo.InvariantCulture) } };
                try
                {
                    await _client.CoordinationV1.PatchNamespacedLeaseAsync(new V1Patch(renew.ToJsonString(), V1Patch.PatchType.MergePatch), Name, "kube-node-lease", cancellationToken: cancellationToken);
                }
                catch (k8s.Autorest.HttpOperationException)
                {
                    // As kubelet: the next beat tries again.
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        var pod = _pods.Cache.Get(key);
        if (pod is null || _heartbeatsPaused)
        {
            return;
        }

        var (ns, name) = ObjectKey.Split(key);
        if (pod.Metadata.DeletionTimestamp is not null)
        {
            try
            {
                await _client.CoreV1.DeleteNamespacedPodAsync(name, ns, new V1DeleteOptions { GracePeriodSeconds = 0 }, cancellationToken: cancellationToken);
            }
            catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                // Gone already.
            }

            return;
        }

        if (string.IsNullOrEmpty(pod.Status?.PodIP))
        {
            int host = Interlocked.Increment(ref _nextIp);
            if (host > 254)
            {
                throw new InvalidOperationException($"node {Name} has no pod IP left in 10.244.{_subnet}.0/24");
            }

            string ip = $"10.244.{_subnet}.{host}";
            var patch = Status(ready: true, ip);
            patch["status"]!["containerStatuses"] = new JsonArray([.. pod.Spec.Containers.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name,
                ["image"] = c.Image,
                ["imageID"] = "",
                ["ready"] = true,
                ["started"] = true,
                ["restartCount"] = 0,
                ["state"] = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture) } },
            })]);
            long writing = Stopwatch.GetTimestamp();
            await _client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), name, ns, cancellationToken: cancellationToken);
            _onStarted?.Invoke(new PodStarted(pod.Metadata.NamespaceProperty, name, ip, writing, Stopwatch.GetTimestamp()));
        }
    }

    private static JsonObject Status(bool ready, string? podIp)
    {
        string now = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        string flag = ready ? "True" : "False";
        var status = new JsonObject
        {
            ["phase"] = "Running",
            ["conditions"] = new JsonArray(
                new JsonObject { ["type"] = "PodScheduled", ["status"] = "True", ["lastTransitionTime"] = now },
                new JsonObject { ["type"] = "Initialized", ["status"] = "True", ["lastTransitionTime"] = now },
                new JsonObject { ["type"] = "ContainersReady", ["status"] = flag, ["lastTransitionTime"] = now },
                new JsonObject { ["type"] = "Ready", ["status"] = flag, ["lastTransitionTime"] = now }),
        };
        if (podIp is not null)
        {
            status["podIP"] = podIp;
            status["podIPs"] = new JsonArray(new JsonObject { ["ip"] = podIp });
            status["hostIP"] = "127.0.0.1";
            status["startTime"] = now;
        }

        return new JsonObject { ["status"] = status };
    }

    /// <summary>A pod made Running and Ready: its IP, and <see cref="Stopwatch"/> timestamps of the status write's start and end.</summary>
    public sealed record PodStarted(string Namespace, string Name, string Ip, long WriteStarted, long WriteEnded);
}
