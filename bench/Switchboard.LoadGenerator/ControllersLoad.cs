using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Controllers.Tests.Fixtures;
using Switchboard.Kube.Client;
using Switchboard.Kube.Informers;

namespace Switchboard.LoadGenerator;

/// <summary>
/// The controllers benchmark's workload against a running API server with controllers: registers fake nodes that
/// make bound pods Running and Ready (pods/status), creates one Service and one Deployment per app in one namespace,
/// and times pod creation and, per pod, how long after its Ready status write its address shows as ready in the
/// Endpoints and in an EndpointSlice (as watchers see them). Prints one <c>key=value</c> line per figure.
/// </summary>
internal static class ControllersLoad
{
    private const string Namespace = "bench";

    public static async Task<int> RunAsync(ControllersLoadOptions options, TextWriter output)
    {
        using var client = KubeClients.FromKubeconfig(options.Kubeconfig);
        using var stop = new CancellationTokenSource();
        int total = options.Deployments * options.Replicas;
        var podsSeen = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var started = new ConcurrentDictionary<string, FakeNode.PodStarted>(StringComparer.Ordinal);
        var readySeen = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var inEndpoints = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var inSlices = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var allPods = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var allAddresses = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void CheckAddresses()
        {
            if (inEndpoints.Count >= total && inSlices.Count >= total)
            {
                allAddresses.TrySetResult();
            }
        }

        var pods = new Informer<V1Pod>(ListWatches.Pods(client), NullLogger.Instance);
        pods.AddHandler(p =>
        {
            if (p.Metadata.NamespaceProperty == Namespace && podsSeen.TryAdd(p.Metadata.Name, Stopwatch.GetTimestamp()) && podsSeen.Count >= total)
            {
                allPods.TrySetResult();
            }
        }, (_, p) =>
        {
            if (p.Metadata.NamespaceProperty == Namespace && p.Status?.PodIP is { Length: > 0 } ip && p.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true)
            {
                readySeen.TryAdd(ip, Stopwatch.GetTimestamp());
            }
        });
        var endpoints = new Informer<V1Endpoints>(ListWatches.Endpoints(client), NullLogger.Instance);
        void Endpoints(V1Endpoints e)
        {
            long now = Stopwatch.GetTimestamp();
            if (e.Metadata.NamespaceProperty == Namespace)
            {
                foreach (var address in e.Subsets?.SelectMany(s => s.Addresses ?? []) ?? [])
                {
                    inEndpoints.TryAdd(address.Ip, now);
                }

                CheckAddresses();
            }
        }

        endpoints.AddHandler(Endpoints, (_, e) => Endpoints(e));
        var slices = new Informer<V1EndpointSlice>(ListWatches.EndpointSlices(client), NullLogger.Instance);
        void Slices(V1EndpointSlice s)
        {
            long now = Stopwatch.GetTimestamp();
            if (s.Metadata.NamespaceProperty == Namespace)
            {
                foreach (var endpoint in (s.Endpoints ?? []).Where(e => e.Conditions?.Ready == true))
                {
                    inSlices.TryAdd(endpoint.Addresses[0], now);
                }

                CheckAddresses();
            }
        }

        slices.AddHandler(Slices, (_, s) => Slices(s));
        var watching = Task.WhenAll(pods.RunAsync(stop.Token), endpoints.RunAsync(stop.Token), slices.RunAsync(stop.Token));
        await Task.WhenAll(pods.WaitForSyncAsync(stop.Token), endpoints.WaitForSyncAsync(stop.Token), slices.WaitForSyncAsync(stop.Token));

        var nodes = new List<FakeNode>();
        for (int i = 0; i < options.Nodes; i++)
        {
            nodes.Add(await FakeNode.StartAsync(client, $"bench-node-{i}", subnet: i, options.NodeWorkers, p => started[p.Ip] = p));
        }

        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } });
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.CreateParallelism };
        await Parallel.ForEachAsync(Enumerable.Range(0, options.Deployments), parallel, async (i, ct) =>
            await client.CoreV1.CreateNamespacedServiceAsync(Service(i), Namespace, cancellationToken: ct));

        long start = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(Enumerable.Range(0, options.Deployments), parallel, async (i, ct) =>
            await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment(i, options.Replicas), Namespace, cancellationToken: ct));
        double createdSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

        bool complete = true;
        try
        {
            await Task.WhenAll(allPods.Task, allAddresses.Task).WaitAsync(options.Timeout);
        }
        catch (TimeoutException)
        {
            complete = false;
        }

        double podsSeconds = podsSeen.Count >= total ? Stopwatch.GetElapsedTime(start, podsSeen.Values.Max()).TotalSeconds : double.NaN;
        double addressesSeconds = complete ? Stopwatch.GetElapsedTime(start, Math.Max(inEndpoints.Values.Max(), inSlices.Values.Max())).TotalSeconds : double.NaN;
        var snapshot = started.Values.ToList();
        var invariant = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(invariant, $"complete={complete}"));
        output.WriteLine(string.Create(invariant, $"deployments={options.Deployments}"));
        output.WriteLine(string.Create(invariant, $"pods_expected={total}"));
        output.WriteLine(string.Create(invariant, $"pods_seen={podsSeen.Count}"));
        output.WriteLine(string.Create(invariant, $"pods_ready={snapshot.Count}"));
        output.WriteLine(string.Create(invariant, $"deployments_created_seconds={createdSeconds:F2}"));
        output.WriteLine(string.Create(invariant, $"all_pods_exist_seconds={podsSeconds:F2}"));
        output.WriteLine(string.Create(invariant, $"pods_created_per_second={total / podsSeconds:F1}"));
        output.WriteLine(string.Create(invariant, $"all_addresses_seconds={addressesSeconds:F2}"));
        var writes = snapshot.Select(p => Stopwatch.GetElapsedTime(p.WriteStarted, p.WriteEnded).TotalMilliseconds).ToList();
        output.WriteLine(string.Create(invariant, $"status_write_p99_ms={Percentiles.Of(writes, 0.99):F1}"));
        // ready_watch: how long a watcher (such as the controllers) takes to see the Ready pod at all.
        foreach (var (name, seen) in new[] { ("ready_watch", readySeen), ("endpoints", inEndpoints), ("slices", inSlices) })
        {
            // From the start of the Ready status write: an upper bound on the time since the pod turned Ready.
            var latencies = snapshot.Where(p => seen.ContainsKey(p.Ip)).Select(p => Stopwatch.GetElapsedTime(p.WriteStarted, seen[p.Ip]).TotalMilliseconds).ToList();
            output.WriteLine(string.Create(invariant, $"{name}_seen={latencies.Count}"));
            output.WriteLine(string.Create(invariant, $"{name}_latency_p50_ms={Percentiles.Of(latencies, 0.50):F1}"));
            output.WriteLine(string.Create(invariant, $"{name}_latency_p99_ms={Percentiles.Of(latencies, 0.99):F1}"));
            output.WriteLine(string.Create(invariant, $"{name}_latency_max_ms={(latencies.Count == 0 ? double.NaN : latencies.Max()):F1}"));
        }

        await stop.CancelAsync();
        foreach (var node in nodes)
        {
            await node.DisposeAsync();
        }

        await watching;
        return complete ? 0 : 1;
    }

    private static Dictionary<string, string> Labels(int i) => new() { ["app"] = App(i) };

    private static string App(int i) => "app-" + i.ToString(CultureInfo.InvariantCulture);

    private static V1Service Service(int i) => new()
    {
        Metadata = new V1ObjectMeta { Name = App(i) },
        Spec = new V1ServiceSpec
        {
            Selector = Labels(i),
            Ports = [new V1ServicePort { Name = "http", Port = 80, TargetPort = "http" }],
        },
    };

    private static V1Deployment Deployment(int i, int replicas) => new()
    {
        Metadata = new V1ObjectMeta { Name = App(i) },
        Spec = new V1DeploymentSpec
        {
            Replicas = replicas,
            Selector = new V1LabelSelector { MatchLabels = Labels(i) },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = Labels(i) },
                Spec = new V1PodSpec
                {
                    Containers = [new V1Container { Name = "app", Image = "registry.local/app:1", Ports = [new V1ContainerPort { Name = "http", ContainerPort = 8080 }] }],
                },
            },
        },
    };
}
