using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using k8s;
using k8s.Models;

namespace Switchboard.LoadGenerator;

/// <summary>
/// The API server benchmark's workload, through KubernetesClient as users drive it: parallel clients create services
/// in one namespace while a watcher records when each one's ADDED event arrives; then the whole list is read.
/// Watch delivery is timed from the moment the create was sent, as a user who creates and waits sees it; the time from
/// the create's response (an event that beats the response counts as 0) is printed beside it, as a lower bound. The watcher is a process of its
/// own: in this one its continuations queued behind the clients' on the thread pool, so the p99 timed this process's
/// scheduling more than the server (the faster the clients ran, the worse it got). Stopwatch timestamps are the
/// system's monotonic clock, the same in both processes.
/// With a user and its token, the creating clients are that user, bound to the edit ClusterRole in the namespace, so
/// every create is authorized through RBAC rather than by the admin's system:masters.
/// Prints one <c>key=value</c> line per figure for bench/apiserver.sh.
/// </summary>
internal static class ApiServerLoad
{
    private const string Canary = "canary";
    private static readonly TimeSpan WatchDeadline = TimeSpan.FromSeconds(60);

    public static async Task RunAsync(ApiServerLoadOptions options, TextWriter output)
    {
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig);
        using var admin = new Kubernetes(config);
        string ns = $"bench-{Guid.NewGuid():N}"[..20];
        await admin.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });

        if (options.User is { } user)
        {
            await BindEditAsync(admin, ns, user);
        }

        var start = await admin.CoreV1.ListNamespacedServiceAsync(ns);
        using var watcher = StartWatcher(options.Kubeconfig, ns, start.Metadata.ResourceVersion, options.Services);

        try
        {
            // The watcher says when it has seen a first service: its watch is up, and timing can start.
            await admin.CoreV1.CreateNamespacedServiceAsync(Service(Canary), ns);
            string? first = await watcher.StandardOutput.ReadLineAsync().WaitAsync(WatchDeadline);
            if (first != "watching")
            {
                throw new InvalidOperationException($"the watcher process said {first ?? "nothing"} instead of watching");
            }

            await admin.CoreV1.DeleteNamespacedServiceAsync(Canary, ns);

            var clients = Enumerable.Range(0, options.Clients).Select(_ => new Kubernetes(ClientConfig(options))).ToList();
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

            var received = ParseReceived(await watcher.StandardOutput.ReadToEndAsync().WaitAsync(WatchDeadline));
            await watcher.WaitForExitAsync();

            var listLatencies = new List<double>();
            int listed = 0;
            for (int i = 0; i < options.Lists; i++)
            {
                long before = Stopwatch.GetTimestamp();
                var list = await admin.CoreV1.ListNamespacedServiceAsync(ns);
                listLatencies.Add(Stopwatch.GetElapsedTime(before).TotalMilliseconds);
                listed = list.Items.Count;
            }

            var fromRequest = sent.Select(s => Stopwatch.GetElapsedTime(s.Value.Sent, received[s.Key]).TotalMilliseconds).ToList();
            var fromResponse = sent.Select(s => Math.Max(0, Stopwatch.GetElapsedTime(s.Value.Acknowledged, received[s.Key]).TotalMilliseconds)).ToList();
            var invariant = CultureInfo.InvariantCulture;
            output.WriteLine(string.Create(invariant, $"creates={sent.Count}"));
            output.WriteLine(string.Create(invariant, $"creates_per_second={sent.Count / createSeconds:F0}"));
            output.WriteLine(string.Create(invariant, $"create_latency_median_ms={Percentiles.Of([.. createLatencies], 0.50):F2}"));
            output.WriteLine(string.Create(invariant, $"create_latency_p99_ms={Percentiles.Of([.. createLatencies], 0.99):F2}"));
            output.WriteLine(string.Create(invariant, $"list_items={listed}"));
            output.WriteLine(string.Create(invariant, $"list_latency_median_ms={Percentiles.Of(listLatencies, 0.50):F1}"));
            output.WriteLine(string.Create(invariant, $"list_latency_max_ms={listLatencies.Max():F1}"));
            output.WriteLine(string.Create(invariant, $"watch_delivery_median_ms={Percentiles.Of(fromRequest, 0.50):F2}"));
            output.WriteLine(string.Create(invariant, $"watch_delivery_p99_ms={Percentiles.Of(fromRequest, 0.99):F2}"));
            output.WriteLine(string.Create(invariant, $"watch_after_response_p99_ms={Percentiles.Of(fromResponse, 0.99):F2}"));
        }
        finally
        {
            // A failed run must not leave the watcher waiting for events.
            if (!watcher.HasExited)
            {
                watcher.Kill();
            }
        }
    }

    /// <summary>
    /// The watcher process: watches the namespace's services from <paramref name="resourceVersion"/>, says
    /// <c>watching</c> at the canary's ADDED, then, once <paramref name="expected"/> more have been added, prints
    /// <c>NAME TIMESTAMP</c> for each (nothing is written while timing).
    /// </summary>
    public static async Task WatchAsync(string kubeconfig, string ns, string resourceVersion, int expected, TextWriter output)
    {
        using var client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig));
        var received = new List<(string Name, long At)>(expected);
        await foreach (var (type, service) in client.CoreV1.WatchListNamespacedServiceAsync(ns, resourceVersion: resourceVersion, timeoutSeconds: (int)WatchDeadline.TotalSeconds * 2))
        {
            long at = Stopwatch.GetTimestamp();
            if (type != WatchEventType.Added)
            {
                continue;
            }

            if (service.Metadata.Name == Canary)
            {
                await output.WriteLineAsync("watching");
                await output.FlushAsync();
                continue;
            }

            received.Add((service.Metadata.Name, at));
            if (received.Count == expected)
            {
                break;
            }
        }

        foreach (var (name, at) in received)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{name} {at}"));
        }
    }

    private static Process StartWatcher(string kubeconfig, string ns, string resourceVersion, int expected)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(start.FileName) == "dotnet")
        {
            start.ArgumentList.Add(typeof(ApiServerLoad).Assembly.Location);
        }

        foreach (string arg in (string[])["apiserver-watch", kubeconfig, ns, resourceVersion, expected.ToString(CultureInfo.InvariantCulture)])
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("the watcher process did not start");
    }

    /// <summary>The creating clients' configuration: the kubeconfig's, as the user of <see cref="ApiServerLoadOptions.Token"/> when there is one.</summary>
    private static KubernetesClientConfiguration ClientConfig(ApiServerLoadOptions options)
    {
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig);
        if (options.Token is { } token)
        {
            config.AccessToken = token;
        }

        return config;
    }

    /// <summary>Binds <paramref name="user"/> to edit in <paramref name="ns"/> and waits until the server's authorizer says so.</summary>
    private static async Task BindEditAsync(Kubernetes admin, string ns, string user)
    {
        await admin.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(new V1RoleBinding
        {
            Metadata = new V1ObjectMeta { Name = "bench-edit" },
            RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = "edit" },
            Subjects = [new Rbacv1Subject { Kind = "User", ApiGroup = "rbac.authorization.k8s.io", Name = user }],
        }, ns);
        var review = new V1SubjectAccessReview
        {
            Spec = new V1SubjectAccessReviewSpec
            {
                User = user,
                Groups = ["system:authenticated"],
                ResourceAttributes = new V1ResourceAttributes { NamespaceProperty = ns, Verb = "create", Resource = "services" },
            },
        };
        long deadline = Stopwatch.GetTimestamp() + (long)(WatchDeadline.TotalSeconds * Stopwatch.Frequency);
        while (!(await admin.AuthorizationV1.CreateSubjectAccessReviewAsync(review)).Status.Allowed)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new InvalidOperationException($"{user} was never allowed to create services in {ns}");
            }

            await Task.Delay(50);
        }
    }

    private static Dictionary<string, long> ParseReceived(string lines) =>
        lines.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' '))
            .ToDictionary(parts => parts[0], parts => long.Parse(parts[1], CultureInfo.InvariantCulture), StringComparer.Ordinal);

    private static V1Service Service(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["app"] = name } },
        Spec = new V1ServiceSpec { Selector = new Dictionary<string, string> { ["app"] = name }, Ports = [new V1ServicePort { Port = 80, TargetPort = 8080 }] },
    };
}
