using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using k8s;
using k8s.Models;

namespace Switchboard.LoadGenerator;

/// <summary>
/// The API server benchmark's workload, through KubernetesClient as users drive it: parallel clients create services
/// in one namespace while a watcher records when each one's ADDED event arrives; then the whole list is read.
/// Watch delivery is timed from the create's response (the write is committed by then; an event that beats the
/// response counts as 0) and, as an upper bound, from the moment the create was sent.
/// Prints one <c>key=value</c> line per figure for bench/apiserver.sh.
/// </summary>
internal static class ApiServerLoad
{
    private static readonly TimeSpan WatchDeadline = TimeSpan.FromSeconds(60);

    public static async Task RunAsync(ApiServerLoadOptions options, TextWriter output)
    {
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig);
        using var admin = new Kubernetes(config);
        string ns = $"bench-{Guid.NewGuid():N}"[..20];
        await admin.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });

        var received = new ConcurrentDictionary<string, long>();
        var allSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stopWatching = new CancellationTokenSource();
        var start = await admin.CoreV1.ListNamespacedServiceAsync(ns);
        var watcher = WatchAsync(admin, ns, start.Metadata.ResourceVersion, options.Services, received, allSeen, stopWatching.Token);

        var clients = Enumerable.Range(0, options.Clients).Select(_ => new Kubernetes(config)).ToList();
        var sent = new ConcurrentDictionary<string, (long Sent, long Acknowledged)>();
        var createLatencies = new ConcurrentBag<double>();
        long began = Stopwatch.GetTimestamp();
        await Task.WhenAll(clients.Select((client, c) => Task.Run(async () =>
        {
            for (int i = c; i < options.Services; i += options.Clients)
            {
                string name = $"svc-{i}";
                long before = Stopwatch.GetTimestamp();
                await client.CoreV1.CreateNamespacedServiceAsync(Service(name), ns);
                long after = Stopwatch.GetTimestamp();
                sent[name] = (before, after);
                createLatencies.Add(Stopwatch.GetElapsedTime(before, after).TotalMilliseconds);
            }
        })));
        double createSeconds = Stopwatch.GetElapsedTime(began).TotalSeconds;
        clients.ForEach(c => c.Dispose());

        await allSeen.Task.WaitAsync(WatchDeadline);
        await stopWatching.CancelAsync();
        await watcher;

        var listLatencies = new List<double>();
        int listed = 0;
        for (int i = 0; i < options.Lists; i++)
        {
            long before = Stopwatch.GetTimestamp();
            var list = await admin.CoreV1.ListNamespacedServiceAsync(ns);
            listLatencies.Add(Stopwatch.GetElapsedTime(before).TotalMilliseconds);
            listed = list.Items.Count;
        }

        var fromResponse = sent.Select(s => Math.Max(0, Stopwatch.GetElapsedTime(s.Value.Acknowledged, received[s.Key]).TotalMilliseconds)).ToList();
        var fromRequest = sent.Select(s => Stopwatch.GetElapsedTime(s.Value.Sent, received[s.Key]).TotalMilliseconds).ToList();
        var invariant = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(invariant, $"creates={sent.Count}"));
        output.WriteLine(string.Create(invariant, $"creates_per_second={sent.Count / createSeconds:F0}"));
        output.WriteLine(string.Create(invariant, $"create_latency_median_ms={Percentiles.Of([.. createLatencies], 0.50):F2}"));
        output.WriteLine(string.Create(invariant, $"create_latency_p99_ms={Percentiles.Of([.. createLatencies], 0.99):F2}"));
        output.WriteLine(string.Create(invariant, $"list_items={listed}"));
        output.WriteLine(string.Create(invariant, $"list_latency_median_ms={Percentiles.Of(listLatencies, 0.50):F1}"));
        output.WriteLine(string.Create(invariant, $"list_latency_max_ms={listLatencies.Max():F1}"));
        output.WriteLine(string.Create(invariant, $"watch_delivery_median_ms={Percentiles.Of(fromResponse, 0.50):F2}"));
        output.WriteLine(string.Create(invariant, $"watch_delivery_p99_ms={Percentiles.Of(fromResponse, 0.99):F2}"));
        output.WriteLine(string.Create(invariant, $"watch_from_request_p99_ms={Percentiles.Of(fromRequest, 0.99):F2}"));
    }

    private static async Task WatchAsync(Kubernetes client, string ns, string resourceVersion, int expected, ConcurrentDictionary<string, long> received, TaskCompletionSource allSeen, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var (type, service) in client.CoreV1.WatchListNamespacedServiceAsync(ns, resourceVersion: resourceVersion, cancellationToken: cancellationToken))
            {
                if (type == WatchEventType.Added && received.TryAdd(service.Metadata.Name, Stopwatch.GetTimestamp()) && received.Count == expected)
                {
                    allSeen.TrySetResult();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Done.
        }
    }

    private static V1Service Service(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = name } },
        Spec = new V1ServiceSpec { Selector = new Dictionary<string, string> { ["app"] = name }, Ports = [new V1ServicePort { Port = 80, TargetPort = 8080 }] },
    };
}
