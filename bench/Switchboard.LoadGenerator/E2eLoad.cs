using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using k8s;
using k8s.Models;
using Switchboard.Kube.Client;
using Switchboard.Kube.Networking;

namespace Switchboard.LoadGenerator;

/// <summary>
/// The end-to-end benchmark's workload against <c>switchboard up</c>, everything seen from a client pod as the seed's
/// <c>curl backend</c> sees it: a DNS query to kube-dns's ClusterIP from the pod's network namespace, then a connection
/// to the answer. (1) From <c>create</c> of a service and a 3-replica nginx deployment to the first HTTP 200 through
/// the service's name. (2) With N services over 3 ready pods (3 endpoints each), from the create of one more service to
/// both its name answering and its ClusterIP accepting a connection, per sample. (3) The process's RSS, idle and loaded.
/// Prints one <c>key=value</c> line per figure.
/// </summary>
internal static class E2eLoad
{
    private const string Namespace = "bench-e2e";
    private const string Suffix = "." + Namespace + ".svc.cluster.local";
    private static readonly IPEndPoint ClusterDns = new(IPAddress.Parse("10.96.0.10"), 53);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan Attempt = TimeSpan.FromMilliseconds(200);

    public static async Task<int> RunAsync(E2eLoadOptions options, TextWriter output)
    {
        var invariant = CultureInfo.InvariantCulture;
        void Print(string key, object value) => output.WriteLine(string.Create(invariant, $"{key}={value}"));
        using var client = KubeClients.FromKubeconfig(options.Kubeconfig);
        using var deadline = new CancellationTokenSource(options.Timeout);
        var cancel = deadline.Token;
        Print("rss_idle_mb", RssMegabytes(options.Pid));

        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } }, cancellationToken: cancel);
        var clientPod = await client.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "client" },
            Spec = new V1PodSpec { TerminationGracePeriodSeconds = 0, Containers = [new V1Container { Name = "client", Image = "busybox", Command = ["sleep", "3600"] }] },
        }, Namespace, cancellationToken: cancel);
        await UntilAsync(async () => PodReady(await client.CoreV1.ReadNamespacedPodAsync("client", Namespace, cancellationToken: cancel)), TimeSpan.FromMilliseconds(50), cancel);
        using var pod = new NetnsDialer(PodNamespace(clientPod.Metadata.Uid));

        // (1) The first curl: the service, its pods, their readiness, DNS and the rules, all from nothing.
        long start = Stopwatch.GetTimestamp();
        await client.CoreV1.CreateNamespacedServiceAsync(Service("web", "web", 80), Namespace, cancellationToken: cancel);
        await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("web", "nginx", 80, readiness: false), Namespace, cancellationToken: cancel);
        using (var http = pod.CreateHttpClient())
        {
            await UntilAsync(async () => await ResolveAsync(pod, "web" + Suffix) is { } ip && await GetsOkAsync(http, ip, cancel), Poll, cancel);
        }

        Print("first_curl_seconds", Stopwatch.GetElapsedTime(start).TotalSeconds.ToString("F2", invariant));

        // (2) N services with 3 ready endpoints each, then one more at a time.
        await client.AppsV1.CreateNamespacedDeploymentAsync(Deployment("pool", "switchboard/echo", 8080, readiness: true), Namespace, cancellationToken: cancel);
        await UntilAsync(async () => (await client.AppsV1.ReadNamespacedDeploymentAsync("pool", Namespace, cancellationToken: cancel)).Status?.ReadyReplicas == 3, TimeSpan.FromMilliseconds(100), cancel);
        await Parallel.ForAsync(0, options.Services, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancel },
            async (i, ct) => await client.CoreV1.CreateNamespacedServiceAsync(Service($"pool-{i}", "pool", 8080), Namespace, cancellationToken: ct));
        await UntilAsync(async () => (await client.DiscoveryV1.ListNamespacedEndpointSliceAsync(Namespace, cancellationToken: cancel)).Items
            .Count(s => s.Metadata.Name.StartsWith("pool-", StringComparison.Ordinal) && s.Endpoints?.Count(e => e.Conditions?.Ready == true) == 3) >= options.Services, TimeSpan.FromMilliseconds(500), cancel);
        string lastIp = (await client.CoreV1.ReadNamespacedServiceAsync($"pool-{options.Services - 1}", Namespace, cancellationToken: cancel)).Spec.ClusterIP;
        await UntilAsync(() => ConnectsAsync(pod, lastIp, cancel), Poll, cancel);
        Print("services", options.Services);
        Print("endpoints", options.Services * 3);
        Print("rss_loaded_mb", RssMegabytes(options.Pid));

        var both = new List<double>();
        var dns = new List<double>();
        var vip = new List<double>();
        for (int i = 0; i < options.Samples; i++)
        {
            string name = $"probe-{i}";
            long created = Stopwatch.GetTimestamp();
            var service = await client.CoreV1.CreateNamespacedServiceAsync(Service(name, "pool", 8080), Namespace, cancellationToken: cancel);
            IPAddress ip = IPAddress.Parse(service.Spec.ClusterIP);
            var answered = TimeAsync(async () => Equals(await ResolveAsync(pod, name + Suffix), ip), created, cancel);
            var accepted = TimeConnectAsync(pod, service.Spec.ClusterIP, created, cancel);
            dns.Add(await answered);
            vip.Add(await accepted);
            both.Add(Math.Max(dns[^1], vip[^1]));
        }

        Print("programming_p50_ms", Percentiles.Of(both, 0.50).ToString("F1", invariant));
        Print("programming_p99_ms", Percentiles.Of(both, 0.99).ToString("F1", invariant));
        Print("dns_p99_ms", Percentiles.Of(dns, 0.99).ToString("F1", invariant));
        Print("vip_p99_ms", Percentiles.Of(vip, 0.99).ToString("F1", invariant));
        await client.CoreV1.DeleteNamespaceAsync(Namespace, cancellationToken: CancellationToken.None);
        return 0;
    }

    private static async Task<double> TimeAsync(Func<Task<bool>> condition, long since, CancellationToken cancellationToken)
    {
        await UntilAsync(condition, Poll, cancellationToken);
        return Stopwatch.GetElapsedTime(since).TotalMilliseconds;
    }

    /// <summary>
    /// The time from <paramref name="since"/> to the first connection <paramref name="ip"/> accepts, with a new attempt
    /// every <see cref="Poll"/> while earlier ones are still out. A SYN sent before the rules exist is never answered
    /// (its conntrack entry keeps it un-NATed), so waiting for each attempt to time out before the next would add up to
    /// a whole <see cref="Attempt"/> to the figure.
    /// </summary>
    private static async Task<double> TimeConnectAsync(NetnsDialer pod, string ip, long since, CancellationToken cancellationToken)
    {
        var accepted = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = new List<Task>();
        while (!accepted.Task.IsCompleted)
        {
            attempts.Add(AttemptAsync());
            await Task.WhenAny(accepted.Task, Task.Delay(Poll, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }

        await Task.WhenAll(attempts);
        return await accepted.Task;

        async Task AttemptAsync()
        {
            if (await ConnectsAsync(pod, ip, cancellationToken))
            {
                accepted.TrySetResult(Stopwatch.GetElapsedTime(since).TotalMilliseconds);
            }
        }
    }

    internal static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan poll, CancellationToken cancellationToken)
    {
        while (!await condition())
        {
            await Task.Delay(poll, cancellationToken);
        }
    }

    internal static bool PodReady(V1Pod pod) => pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    /// <summary>The pod's network namespace, which the node names after its uid.</summary>
    internal static string PodNamespace(string uid) =>
        Path.GetFileName(Directory.EnumerateFiles("/run/netns", "*_" + uid).Single());

    internal static V1Service Service(string name, string app, int targetPort) => new()
    {
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1ServiceSpec
        {
            Selector = new Dictionary<string, string> { ["app"] = app },
            Ports = [new V1ServicePort { Port = 80, TargetPort = targetPort, Protocol = "TCP" }],
        },
    };

    internal static V1Deployment Deployment(string name, string image, int port, bool readiness)
    {
        var labels = new Dictionary<string, string> { ["app"] = name };
        return new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new V1DeploymentSpec
            {
                Replicas = 3,
                Selector = new V1LabelSelector { MatchLabels = labels },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec
                    {
                        TerminationGracePeriodSeconds = 0,
                        Containers =
                        [
                            new V1Container
                            {
                                Name = name,
                                Image = image,
                                Ports = [new V1ContainerPort { ContainerPort = port }],
                                ReadinessProbe = readiness ? new V1Probe { HttpGet = new V1HTTPGetAction { Path = "/healthz", Port = port }, PeriodSeconds = 1 } : null,
                            },
                        ],
                    },
                },
            },
        };
    }

    /// <summary>An A query for <paramref name="name"/> to kube-dns's ClusterIP from the pod; the first address answered, or null.</summary>
    private static async Task<IPAddress?> ResolveAsync(NetnsDialer pod, string name)
    {
        using var socket = await pod.CreateAsync(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        ushort id = (ushort)Random.Shared.Next(ushort.MaxValue);
        var query = new List<byte> { (byte)(id >> 8), (byte)id, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
        foreach (string label in name.Split('.'))
        {
            query.Add((byte)label.Length);
            query.AddRange(Encoding.ASCII.GetBytes(label));
        }

        query.AddRange([0, 0, 1, 0, 1]);
        await socket.SendToAsync(query.ToArray(), ClusterDns);
        byte[] answer = new byte[512];
        using var timeout = new CancellationTokenSource(Attempt);
        int length;
        try
        {
            length = await socket.ReceiveAsync(answer, timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }

        return FirstAddress(answer.AsSpan(0, length), id, query.Count);
    }

    /// <summary>The first A record of a NOERROR response to query <paramref name="id"/> whose question ends at <paramref name="questionEnd"/>.</summary>
    private static IPAddress? FirstAddress(ReadOnlySpan<byte> response, ushort id, int questionEnd)
    {
        if (response.Length < questionEnd || BinaryPrimitives.ReadUInt16BigEndian(response) != id || (response[3] & 0x0F) != 0)
        {
            return null;
        }

        int answers = BinaryPrimitives.ReadUInt16BigEndian(response[6..]);
        int at = questionEnd;
        for (int i = 0; i < answers && at < response.Length; i++)
        {
            // The owner name: a compression pointer, or labels up to the root.
            while (at < response.Length && response[at] != 0 && (response[at] & 0xC0) != 0xC0)
            {
                at += response[at] + 1;
            }

            at += at < response.Length && response[at] == 0 ? 1 : 2;
            if (at + 10 > response.Length)
            {
                return null;
            }

            ushort type = BinaryPrimitives.ReadUInt16BigEndian(response[at..]);
            int dataLength = BinaryPrimitives.ReadUInt16BigEndian(response[(at + 8)..]);
            at += 10;
            if (type == 1 && dataLength == 4 && at + 4 <= response.Length)
            {
                return new IPAddress(response.Slice(at, 4));
            }

            at += dataLength;
        }

        return null;
    }

    internal static async Task<bool> ConnectsAsync(NetnsDialer pod, string ip, CancellationToken cancellationToken)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(Attempt);
        try
        {
            using var socket = await pod.ConnectAsync(new IPEndPoint(IPAddress.Parse(ip), 80), attempt.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    private static async Task<bool> GetsOkAsync(HttpClient http, IPAddress ip, CancellationToken cancellationToken)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(TimeSpan.FromSeconds(1));
        try
        {
            using var response = await http.GetAsync(new Uri($"http://{ip}/"), attempt.Token);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>The resident set of <paramref name="pid"/> in MB (VmRSS of /proc/PID/status).</summary>
    internal static string RssMegabytes(int pid)
    {
        string line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        long kilobytes = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return (kilobytes / 1024.0).ToString("F0", CultureInfo.InvariantCulture);
    }
}
