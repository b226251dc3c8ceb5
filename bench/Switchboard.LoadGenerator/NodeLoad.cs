using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Kube.Client;
using Switchboard.Kube.Informers;

namespace Switchboard.LoadGenerator;

/// <summary>
/// The node benchmark's workload against a running cluster with a real node: one Deployment of the echo image with an
/// httpGet /healthz readiness probe, scaled from 0 to each N in turn (the scale subresource, as <c>kubectl scale</c>
/// writes it) and back to 0. A pod watcher times, per pod, from its first sight (its creation) to its Ready condition,
/// with the stages in between (bound, IP, container running) for profiling; and the whole from the scale to N Ready.
/// Prints one <c>key=value</c> line per figure, prefixed <c>nN_</c>.
/// </summary>
internal static class NodeLoad
{
    private const string Namespace = "bench-node";
    private const string Deployment = "echo";

    public static async Task<int> RunAsync(NodeLoadOptions options, TextWriter output)
    {
        using var client = KubeClients.FromKubeconfig(options.Kubeconfig);
        using var stop = new CancellationTokenSource();
        var timelines = new ConcurrentDictionary<string, PodTimeline>(StringComparer.Ordinal);
        var changed = new SemaphoreSlim(0);
        void Observe(V1Pod pod)
        {
            if (pod.Metadata.NamespaceProperty == Namespace)
            {
                timelines.GetOrAdd(pod.Metadata.Uid, _ => new PodTimeline()).Observe(pod, Stopwatch.GetTimestamp());
                changed.Release();
            }
        }

        var pods = new Informer<V1Pod>(ListWatches.Pods(client), NullLogger.Instance);
        pods.AddHandler(Observe, (_, p) => Observe(p), _ => changed.Release());
        var watching = pods.RunAsync(stop.Token);
        await pods.WaitForSyncAsync(stop.Token);
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } });
        await client.AppsV1.CreateNamespacedDeploymentAsync(EchoDeployment(), Namespace);

        var invariant = CultureInfo.InvariantCulture;
        bool complete = true;
        foreach (int count in options.Counts)
        {
            void Print(string key, object value) => output.WriteLine(string.Create(invariant, $"n{count}_{key}={value}"));
            void PrintLatencies(string name, IEnumerable<double> samples)
            {
                List<double> list = [.. samples];
                Print(name + "_p50_ms", Percentiles.Of(list, 0.50).ToString("F0", invariant));
                Print(name + "_p99_ms", Percentiles.Of(list, 0.99).ToString("F0", invariant));
            }

            timelines.Clear();
            long start = Stopwatch.GetTimestamp();
            await ScaleAsync(client, count);
            bool ready = await WaitAsync(changed, () => timelines.Values.Count(t => t.Ready is not null) >= count, options.Timeout);
            complete &= ready;
            var round = timelines.Values.Where(t => t.Ready is not null).ToList();
            Print("complete", ready);
            Print("pods_ready", round.Count);
            if (round.Count > 0)
            {
                double seconds = Stopwatch.GetElapsedTime(start, round.Max(t => t.Ready!.Value)).TotalSeconds;
                Print("scale_to_ready_seconds", seconds.ToString("F2", invariant));
                Print("pods_per_second", (round.Count / seconds).ToString("F1", invariant));
                PrintLatencies("pod_start", round.Select(t => t.Since(t.Ready)));
                Print("pod_start_max_ms", round.Max(t => t.Since(t.Ready)).ToString("F0", invariant));

                // Where the time goes, each stage from the pod's creation as the watcher saw it.
                PrintLatencies("bound", round.Select(t => t.Since(t.Bound)));
                PrintLatencies("ip", round.Select(t => t.Since(t.Addressed)));
                PrintLatencies("running", round.Select(t => t.Since(t.Running)));
            }

            await ScaleAsync(client, 0);
            complete &= await WaitAsync(changed, () => pods.Cache.InNamespace(Namespace).Count == 0, options.Timeout);
        }

        await client.CoreV1.DeleteNamespaceAsync(Namespace);
        await stop.CancelAsync();
        await watching;
        return complete ? 0 : 1;
    }

    private static Task ScaleAsync(IKubernetes client, int replicas) => client.AppsV1.PatchNamespacedDeploymentScaleAsync(
        new V1Patch($"{{\"spec\":{{\"replicas\":{replicas}}}}}", V1Patch.PatchType.MergePatch), Deployment, Namespace);

    private static async Task<bool> WaitAsync(SemaphoreSlim changed, Func<bool> done, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!done())
        {
            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            await changed.WaitAsync(left);
        }

        return true;
    }

    private static V1Deployment EchoDeployment()
    {
        var labels = new Dictionary<string, string> { ["app"] = Deployment };
        return new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = Deployment },
            Spec = new V1DeploymentSpec
            {
                Replicas = 0,
                Selector = new V1LabelSelector { MatchLabels = labels },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec
                    {
                        TerminationGracePeriodSeconds = 5,
                        Containers =
                        [
                            new V1Container
                            {
                                Name = "echo",
                                Image = "switchboard/echo",
                                Ports = [new V1ContainerPort { ContainerPort = 8080 }],

                                // kubelet's defaults otherwise (period 10 s): a first probe that misses costs a period.
                                ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/healthz", Port = 8080 } },
                            },
                        ],
                    },
                },
            },
        };
    }

    /// <summary>When the watcher first saw a pod, and then each stage of its start.</summary>
    private sealed class PodTimeline
    {
        private readonly Lock _lock = new();
        private long _seen;

        public long? Bound { get; private set; }

        public long? Addressed { get; private set; }

        public long? Running { get; private set; }

        public long? Ready { get; private set; }

        public void Observe(V1Pod pod, long now)
        {
            lock (_lock)
            {
                if (_seen == 0)
                {
                    _seen = now;
                }

                Bound ??= string.IsNullOrEmpty(pod.Spec.NodeName) ? null : now;
                Addressed ??= string.IsNullOrEmpty(pod.Status?.PodIP) ? null : now;
                Running ??= pod.Status?.ContainerStatuses?.All(c => c.State?.Running is not null) == true ? now : null;
                Ready ??= pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true ? now : null;
            }
        }

        public double Since(long? stage) => stage is { } at ? Stopwatch.GetElapsedTime(_seen, at).TotalMilliseconds : double.NaN;
    }
}
