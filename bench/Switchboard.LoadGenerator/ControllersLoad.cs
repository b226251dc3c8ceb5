using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Testing;
using Switchboard.Kube.Client;
using Switchboard.Kube.Informers;

namespace Switchboard.LoadGenerator;

/// <summary>
/// The controllers benchmark's workload against a running API server with controllers: registers fake nodes that
/// make bound pods Running and Ready (pods/status), creates one Service per app in one namespace, waits for their
/// (empty) Endpoints and EndpointSlices, creates one Deployment per app, and times pod creation and, per pod, how long after its Ready status write its address shows as ready in the
/// Endpoints and in an EndpointSlice (as watchers see them): during the creation storm, and then in steady state as
/// pods' readiness flips. Prints one <c>key=value</c> line per figure.
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
        var inEndpoints = new ReadyAddresses();
        var inSlices = new ReadyAddresses();
        var allPods = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var allAddresses = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void CheckAddresses()
        {
            if (inEndpoints.FirstSeenCount >= total && inSlices.FirstSeenCount >= total)
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
            if (e.Metadata.NamespaceProperty == Namespace)
            {
                inEndpoints.Update(e.Metadata.Name, e.Subsets?.SelectMany(s => s.Addresses ?? []).Select(a => a.Ip) ?? []);
                CheckAddresses();
            }
        }

        endpoints.AddHandler(Endpoints, (_, e) => Endpoints(e), e => inEndpoints.Update(e.Metadata.Name, []));
        var slices = new Informer<V1EndpointSlice>(ListWatches.EndpointSlices(client), NullLogger.Instance);
        void Slices(V1EndpointSlice s)
        {
            if (s.Metadata.NamespaceProperty == Namespace)
            {
                inSlices.Update(s.Metadata.Name, (s.Endpoints ?? []).Where(e => e.Conditions?.Ready == true).Select(e => e.Addresses[0]));
                CheckAddresses();
            }
        }

        slices.AddHandler(Slices, (_, s) => Slices(s), s => inSlices.Update(s.Metadata.Name, []));
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

        // The services' (empty) Endpoints and EndpointSlices first, so the figures are about pods, not that backlog.
        var servicesDone = Stopwatch.StartNew();
        while (inEndpoints.ObjectCount < options.Deployments || inSlices.ObjectCount < options.Deployments)
        {
            if (servicesDone.Elapsed > options.Timeout)
            {
                throw new TimeoutException($"the services' Endpoints and EndpointSlices did not all appear within {options.Timeout}");
            }

            await Task.Delay(50);
        }

        double servicesSeconds = servicesDone.Elapsed.TotalSeconds;
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

        var invariant = CultureInfo.InvariantCulture;
        void Print(string key, object value) => output.WriteLine(string.Create(invariant, $"{key}={value}"));
        void PrintLatencies(string name, List<double> latencies)
        {
            Print(name + "_samples", latencies.Count);
            Print(name + "_latency_p50_ms", Percentiles.Of(latencies, 0.50).ToString("F1", invariant));
            Print(name + "_latency_p99_ms", Percentiles.Of(latencies, 0.99).ToString("F1", invariant));
            Print(name + "_latency_max_ms", (latencies.Count == 0 ? double.NaN : latencies.Max()).ToString("F1", invariant));
        }

        double podsSeconds = podsSeen.Count >= total ? Stopwatch.GetElapsedTime(start, podsSeen.Values.Max()).TotalSeconds : double.NaN;
        var snapshot = started.Values.ToList();
        Print("complete", complete);
        Print("deployments", options.Deployments);
        Print("pods_expected", total);
        Print("pods_seen", podsSeen.Count);
        Print("pods_ready", snapshot.Count);
        Print("service_endpoints_seconds", servicesSeconds.ToString("F2", invariant));
        Print("deployments_created_seconds", createdSeconds.ToString("F2", invariant));
        Print("all_pods_exist_seconds", podsSeconds.ToString("F2", invariant));
        Print("pods_created_per_second", (total / podsSeconds).ToString("F1", invariant));
        if (complete)
        {
            Print("all_addresses_seconds", Stopwatch.GetElapsedTime(start, Math.Max(inEndpoints.LastFirstReady(), inSlices.LastFirstReady())).TotalSeconds.ToString("F2", invariant));
        }

        Print("status_write_p99_ms", Percentiles.Of([.. snapshot.Select(p => Stopwatch.GetElapsedTime(p.WriteStarted, p.WriteEnded).TotalMilliseconds)], 0.99).ToString("F1", invariant));

        // During creation: from the start of each pod's Ready status write (an upper bound on the time since it
        // turned Ready) to the first watch event showing it; ready_watch is the pod itself as a watcher sees it.
        PrintLatencies("create_ready_watch", [.. snapshot.Where(p => readySeen.ContainsKey(p.Ip)).Select(p => Stopwatch.GetElapsedTime(p.WriteStarted, readySeen[p.Ip]).TotalMilliseconds)]);
        foreach (var (name, seen) in new[] { ("create_endpoints", inEndpoints), ("create_slices", inSlices) })
        {
            PrintLatencies(name, [.. snapshot.Where(p => seen.FirstReady(p.Ip) is not null).Select(p => Stopwatch.GetElapsedTime(p.WriteStarted, seen.FirstReady(p.Ip)!.Value).TotalMilliseconds)]);

            // Upstream's network-programming SLI starts when the pod is Ready in the API; here: when a watcher
            // first sees its Ready status, through the same server as the Endpoints and slices it is compared with.
            PrintLatencies(name + "_after_ready", [.. snapshot.Where(p => seen.FirstReady(p.Ip) is not null && readySeen.ContainsKey(p.Ip))
                .Select(p => Math.Max(0, Stopwatch.GetElapsedTime(readySeen[p.Ip], seen.FirstReady(p.Ip)!.Value).TotalMilliseconds))]);
        }

        if (complete && options.Flips > 0)
        {
            var (endpointFlips, sliceFlips) = await FlipAsync(nodes[0], snapshot, inEndpoints, inSlices, options);
            PrintLatencies("flip_endpoints", endpointFlips);
            PrintLatencies("flip_slices", sliceFlips);
        }

        await stop.CancelAsync();
        foreach (var node in nodes)
        {
            await node.DisposeAsync();
        }

        await watching;
        return complete ? 0 : 1;
    }

    /// <summary>
    /// Steady state: pods of different services turn not ready and Ready again, a few at a time, as readiness probes
    /// would; each Ready write is timed until both watched kinds show the address ready.
    /// </summary>
    private static async Task<(List<double> Endpoints, List<double> Slices)> FlipAsync(FakeNode node, List<FakeNode.PodStarted> pods, ReadyAddresses inEndpoints, ReadyAddresses inSlices, ControllersLoadOptions options)
    {
        var endpointLatencies = new ConcurrentBag<double>();
        var sliceLatencies = new ConcurrentBag<double>();
        var sample = pods.OrderBy(p => p.Name, StringComparer.Ordinal).Where((_, i) => i % options.Replicas == 0).Take(options.Flips);
        using var deadline = new CancellationTokenSource(options.Timeout);
        await Parallel.ForEachAsync(sample, new ParallelOptions { MaxDegreeOfParallelism = options.FlipParallelism, CancellationToken = deadline.Token }, async (pod, ct) =>
        {
            await node.SetReadyAsync(pod.Namespace, pod.Name, ready: false);
            await Task.WhenAll(inEndpoints.WaitAsync(pod.Ip, ready: false), inSlices.WaitAsync(pod.Ip, ready: false)).WaitAsync(ct);
            long writing = Stopwatch.GetTimestamp();
            await node.SetReadyAsync(pod.Namespace, pod.Name, ready: true);
            await Task.WhenAll(inEndpoints.WaitAsync(pod.Ip, ready: true), inSlices.WaitAsync(pod.Ip, ready: true)).WaitAsync(ct);
            endpointLatencies.Add(Stopwatch.GetElapsedTime(writing, inEndpoints.ReadySince(pod.Ip)).TotalMilliseconds);
            sliceLatencies.Add(Stopwatch.GetElapsedTime(writing, inSlices.ReadySince(pod.Ip)).TotalMilliseconds);
        });
        return ([.. endpointLatencies], [.. sliceLatencies]);
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
