using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using Microsoft.Playwright;
using Switchboard.Kube.Client;
using Switchboard.Kube.Networking;

namespace Switchboard.LoadGenerator;

/// <summary>
/// The web view's benchmark against <c>switchboard up</c>, in headless Chromium (the system's, through Playwright):
/// (1) with N services over 3 ready pods (3N endpoints), the time from opening a login link to the overview drawn with
/// every service; the server's CPU over a window of steady changes (a label rewritten 10 times a second) with no
/// page open, then with B pages open. (2) With connections to the services flowing from a client pod's namespace at a
/// bounded rate, a page showing the flow of "probe" (a Service only the probe connections go to): for each probe
/// connection, the time from the event's timestamp to the frame that painted it, as the page measures it
/// (<c>window.sbPaints</c>), and from the bench's connect to that paint; the stream's bytes per second and the page's
/// main-thread time meanwhile; and dnsperf's QPS against the cluster DNS with the B pages watching against none (the web
/// view reads DNS's trace only while a page shows a flow), the pages watching measured twice: as they run, and with
/// their Chromium processes confined to a cgroup of the least CPU weight (<see cref="BrowserConfinement"/>), since on
/// a 2-core machine the browsers' rendering competes with DNS whatever the server does. Prints one <c>key=value</c>
/// line per figure.
/// </summary>
internal static partial class UiLoad
{
    private const string Namespace = "bench-ui";

    /// <summary>How long the web view keeps reading trace sources after its last page closed.</summary>
    private static readonly TimeSpan HubIdle = TimeSpan.FromSeconds(35);

    public static async Task<int> RunAsync(UiLoadOptions options, TextWriter output)
    {
        var invariant = CultureInfo.InvariantCulture;
        void Print(string key, object value) => output.WriteLine(string.Create(invariant, $"{key}={value}"));
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig);
        using var client = KubeClients.FromKubeconfig(config);
        using var deadline = new CancellationTokenSource(options.Timeout);
        var cancel = deadline.Token;

        // N services over one 3-replica deployment; a client pod to connect from; "probe", the service the flow shows.
        await client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace } }, cancellationToken: cancel);
        var clientPod = await client.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "client" },
            Spec = new V1PodSpec { TerminationGracePeriodSeconds = 0, Containers = [new V1Container { Name = "client", Image = "busybox", Command = ["sleep", "3600"] }] },
        }, Namespace, cancellationToken: cancel);
        await client.AppsV1.CreateNamespacedDeploymentAsync(E2eLoad.Deployment("pool", "switchboard/echo", 8080, readiness: true), Namespace, cancellationToken: cancel);
        await E2eLoad.UntilAsync(async () => E2eLoad.PodReady(await client.CoreV1.ReadNamespacedPodAsync("client", Namespace, cancellationToken: cancel)), TimeSpan.FromMilliseconds(100), cancel);
        await E2eLoad.UntilAsync(async () => (await client.AppsV1.ReadNamespacedDeploymentAsync("pool", Namespace, cancellationToken: cancel)).Status?.ReadyReplicas == 3, TimeSpan.FromMilliseconds(100), cancel);
        await Parallel.ForAsync(0, options.Services, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancel },
            async (i, ct) => await client.CoreV1.CreateNamespacedServiceAsync(E2eLoad.Service($"pool-{i}", "pool", 8080), Namespace, cancellationToken: ct));
        var probe = await client.CoreV1.CreateNamespacedServiceAsync(E2eLoad.Service("probe", "pool", 8080), Namespace, cancellationToken: cancel);
        await E2eLoad.UntilAsync(async () => (await client.DiscoveryV1.ListNamespacedEndpointSliceAsync(Namespace, cancellationToken: cancel)).Items
            .Count(s => s.Endpoints?.Count(e => e.Conditions?.Ready == true) == 3) >= options.Services + 1, TimeSpan.FromMilliseconds(500), cancel);
        string[] targets = [.. (await client.CoreV1.ListNamespacedServiceAsync(Namespace, cancellationToken: cancel)).Items.Where(s => s.Metadata.Name != "probe").Take(50).Select(s => s.Spec.ClusterIP)];
        using var pod = new NetnsDialer(E2eLoad.PodNamespace(clientPod.Metadata.Uid));
        await E2eLoad.UntilAsync(() => E2eLoad.ConnectsAsync(pod, probe.Spec.ClusterIP, cancel), TimeSpan.FromMilliseconds(50), cancel);
        Print("services", options.Services);
        Print("endpoints", options.Services * 3);

        // (1) CPU with no page, over a steady trickle of changes.
        Print("cpu_no_browser_percent", (await CpuWhileAsync(options.Pid, options.Window, () => ChurnAsync(client, options.Window, cancel))).ToString("F1", invariant));

        using IPlaywright playwright = await Playwright.CreateAsync();
        await using IBrowser browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = options.Chromium, Headless = true, Args = ["--no-sandbox"] });
        var renders = new List<double>();
        for (int i = 0; i < 3; i++)
        {
            await using IBrowserContext context = await browser.NewContextAsync(new() { IgnoreHTTPSErrors = true, ViewportSize = new() { Width = 1400, Height = 900 } });
            IPage page = await context.NewPageAsync();
            Uri link = await LoginLinkAsync(config, cancel);
            long started = Stopwatch.GetTimestamp();
            await page.GotoAsync(link.AbsoluteUri);
            await page.WaitForFunctionAsync(
                $"() => document.getElementById('status').textContent === 'live' && document.querySelectorAll('[data-service]').length > 0 && /\\b{options.Services + 1}\\b|\\b{options.Services + 3}\\b/.test(document.getElementById('counts').textContent)",
                null,
                new() { Timeout = 120_000 });
            renders.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        Print("first_render_ms", Percentiles.Of(renders, 0.5).ToString("F0", invariant));

        // B pages on the overview, then the CPU over the same trickle.
        var contexts = new List<IBrowserContext>();
        var pages = new List<IPage>();
        for (int i = 0; i < options.Browsers; i++)
        {
            IBrowserContext context = await browser.NewContextAsync(new() { IgnoreHTTPSErrors = true, ViewportSize = new() { Width = 1400, Height = 900 } });
            contexts.Add(context);
            await context.AddInitScriptAsync(StreamTap);
            IPage page = await context.NewPageAsync();
            await page.GotoAsync((await LoginLinkAsync(config, cancel)).AbsoluteUri);
            await page.WaitForFunctionAsync("() => document.getElementById('status').textContent === 'live'", null, new() { Timeout = 120_000 });
            pages.Add(page);
        }

        Print("cpu_browsers_percent", (await CpuWhileAsync(options.Pid, options.Window, () => ChurnAsync(client, options.Window, cancel))).ToString("F1", invariant));
        Print("browsers", options.Browsers);

        // (2) Connections flowing; the first page shows the flow of "probe"; a probe connection every 500 ms is timed
        // to the frame that painted it; dnsperf meanwhile.
        IPage watcher = pages[0];
        await watcher.FillAsync("#search", "probe");
        await watcher.ClickAsync($"[data-service='{Namespace}/probe']");
        using (var flowing = CancellationTokenSource.CreateLinkedTokenSource(cancel))
        {
            long loadStarted = Stopwatch.GetTimestamp();
            Task<long> load = ConnectionsAsync(pod, targets, options.Rate, flowing.Token);
            Task<double> qps = DnsperfAsync(options, cancel);
            ICDPSession cdp = await watcher.Context.NewCDPSessionAsync(watcher);
            await cdp.SendAsync("Performance.enable");
            double mainThreadBefore = await TaskSecondsAsync(cdp);
            long bytesBefore = await watcher.EvaluateAsync<long>("() => window.sbStreamBytes");
            long watchStarted = Stopwatch.GetTimestamp();
            var paints = new List<double>();
            var roundTrips = new List<double>();
            int missed = 0;
            for (int i = 0; i < options.Samples; i++)
            {
                int before = await watcher.EvaluateAsync<int>("() => window.sbPaintCount");
                long sent = Stopwatch.GetTimestamp();
                await E2eLoad.ConnectsAsync(pod, probe.Spec.ClusterIP, cancel);
                try
                {
                    await watcher.WaitForFunctionAsync($"() => window.sbPaintCount > {before}", null, new() { Timeout = 10_000, PollingInterval = 5 });
                    roundTrips.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                    paints.Add(await watcher.EvaluateAsync<double>($"() => window.sbPaints[window.sbPaints.length - (window.sbPaintCount - {before})].latency"));
                }
                catch (TimeoutException)
                {
                    // Counted, not hidden: a probe the page never painted within 10 s.
                    missed++;
                }

                await Task.Delay(500, cancel);
            }

            double watched = Stopwatch.GetElapsedTime(watchStarted).TotalSeconds;
            Print("stream_kib_per_second", ((await watcher.EvaluateAsync<long>("() => window.sbStreamBytes") - bytesBefore) / 1024.0 / watched).ToString("F1", invariant));
            Print("page_main_thread_percent", (100 * (await TaskSecondsAsync(cdp) - mainThreadBefore) / watched).ToString("F1", invariant));
            Print("dns_qps_browsers", (await qps).ToString("F0", invariant));

            // Again, the pages still watching and the connections flowing, with Chromium confined to CPU nothing else
            // wants: what is left of the drop is the server's own cost of being watched, not the browsers' rendering.
            using (BrowserConfinement? confined = BrowserConfinement.Start(out string problem))
            {
                Print("browsers_confined", confined is null ? "no: " + problem : $"{confined.Processes} processes in {confined.How}");
                Print("dns_qps_browsers_confined", confined is null ? "NaN" : (await DnsperfAsync(options, cancel)).ToString("F0", invariant));
            }

            await flowing.CancelAsync();
            Print("connections_per_second", ((await load) / Stopwatch.GetElapsedTime(loadStarted).TotalSeconds).ToString("F0", invariant));
            Print("paint_samples", paints.Count);
            Print("paint_missed", missed);
            Print("paint_p50_ms", (paints.Count > 0 ? Percentiles.Of(paints, 0.5) : double.NaN).ToString("F0", invariant));
            Print("paint_p99_ms", (paints.Count > 0 ? Percentiles.Of(paints, 0.99) : double.NaN).ToString("F0", invariant));
            Print("probe_to_paint_p50_ms", (roundTrips.Count > 0 ? Percentiles.Of(roundTrips, 0.5) : double.NaN).ToString("F0", invariant));
            Print("probe_to_paint_p99_ms", (roundTrips.Count > 0 ? Percentiles.Of(roundTrips, 0.99) : double.NaN).ToString("F0", invariant));
        }

        foreach (IBrowserContext context in contexts)
        {
            await context.DisposeAsync();
        }

        // The same load and dnsperf once no page is open and the web view has stopped reading the trace.
        await Task.Delay(HubIdle, cancel);
        using (var flowing = CancellationTokenSource.CreateLinkedTokenSource(cancel))
        {
            Task<long> load = ConnectionsAsync(pod, targets, options.Rate, flowing.Token);
            Print("dns_qps_no_browser", (await DnsperfAsync(options, cancel)).ToString("F0", invariant));
            await flowing.CancelAsync();
            await load;
        }

        await client.CoreV1.DeleteNamespaceAsync(Namespace, cancellationToken: CancellationToken.None);
        return 0;
    }

    /// <summary>Counts the bytes of the page's event stream (<c>window.sbStreamBytes</c>), by wrapping EventSource before the page's script runs.</summary>
    private const string StreamTap = """
        window.sbStreamBytes = 0;
        const RealEventSource = window.EventSource;
        window.EventSource = class extends RealEventSource {
          addEventListener(type, listener, options) {
            super.addEventListener(type, (m) => { window.sbStreamBytes += m.data.length; listener(m); }, options);
          }
        };
        """;

    /// <summary>The page's main-thread task time so far (CDP Performance.getMetrics' TaskDuration), in seconds.</summary>
    private static async Task<double> TaskSecondsAsync(ICDPSession cdp)
    {
        System.Text.Json.JsonElement? metrics = await cdp.SendAsync("Performance.getMetrics");
        foreach (System.Text.Json.JsonElement metric in metrics!.Value.GetProperty("metrics").EnumerateArray())
        {
            if (metric.GetProperty("name").GetString() == "TaskDuration")
            {
                return metric.GetProperty("value").GetDouble();
            }
        }

        throw new InvalidOperationException("Chromium reported no TaskDuration");
    }

    /// <summary>A one-time login URL, as <c>switchboard ui --print-url</c> mints it.</summary>
    private static async Task<Uri> LoginLinkAsync(KubernetesClientConfiguration config, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(Switchboard.Kube.Trace.TraceSource.Handler(config));
        var host = new Uri(config.Host.TrimEnd('/') + "/");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(host, "ui/login-links"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", config.AccessToken);
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        return new Uri(host, (string)JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!["path"]!);
    }

    /// <summary>The server's CPU (user + system, % of one core) while <paramref name="work"/> runs.</summary>
    private static async Task<double> CpuWhileAsync(int pid, TimeSpan window, Func<Task> work)
    {
        double before = CpuSeconds(pid);
        long started = Stopwatch.GetTimestamp();
        await work();
        return 100 * (CpuSeconds(pid) - before) / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>utime + stime of /proc/PID/stat, in seconds (USER_HZ 100).</summary>
    private static double CpuSeconds(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>A label of one of the services rewritten 10 times a second for <paramref name="window"/>: changes every page is sent.</summary>
    private static async Task ChurnAsync(IKubernetes client, TimeSpan window, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        for (int i = 0; Stopwatch.GetElapsedTime(started) < window; i++)
        {
            var patch = new V1Patch($"{{\"metadata\":{{\"labels\":{{\"churn\":\"{i}\"}}}}}}", V1Patch.PatchType.MergePatch);
            await client.CoreV1.PatchNamespacedServiceAsync(patch, $"pool-{i % 10}", Namespace, cancellationToken: cancellationToken);
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>
    /// Connections from the pod to the services' ClusterIPs at <paramref name="rate"/> per second, each closed once
    /// accepted, at most 500 outstanding (bounded: a slow data plane slows the load rather than piling it up).
    /// </summary>
    private static async Task<long> ConnectionsAsync(NetnsDialer pod, string[] targets, int rate, CancellationToken cancellationToken)
    {
        long made = 0;
        using var outstanding = new SemaphoreSlim(500);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        var running = new List<Task>();
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                for (int i = 0; i < Math.Max(1, rate / 100); i++)
                {
                    if (!outstanding.Wait(0))
                    {
                        break;
                    }

                    string ip = targets[(int)(made++ % targets.Length)];
                    running.Add(Task.Run(async () =>
                    {
                        try
                        {
                            await E2eLoad.ConnectsAsync(pod, ip, CancellationToken.None);
                        }
                        finally
                        {
                            outstanding.Release();
                        }
                    }, CancellationToken.None));
                }

                running.RemoveAll(t => t.IsCompleted);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped.
        }

        await Task.WhenAll(running);
        return made;
    }

    /// <summary>dnsperf against the cluster DNS for the window: the services' names; its queries per second.</summary>
    private static async Task<double> DnsperfAsync(UiLoadOptions options, CancellationToken cancellationToken)
    {
        string names = Path.GetTempFileName();
        try
        {
            await File.WriteAllLinesAsync(names, Enumerable.Range(0, options.Services).Select(i => $"pool-{i}.{Namespace}.svc.cluster.local A"), cancellationToken);
            string[] address = options.DnsAddress.Split(':');
            var start = new ProcessStartInfo("dnsperf") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string arg in new[] { "-s", address[0], "-p", address[1], "-d", names, "-l", ((int)options.Window.TotalSeconds).ToString(CultureInfo.InvariantCulture), "-c", "4", "-q", "200" })
            {
                start.ArgumentList.Add(arg);
            }

            using var dnsperf = Process.Start(start) ?? throw new InvalidOperationException("could not start dnsperf");
            Task<string> stderr = dnsperf.StandardError.ReadToEndAsync(cancellationToken);
            string report = await dnsperf.StandardOutput.ReadToEndAsync(cancellationToken);
            await dnsperf.WaitForExitAsync(cancellationToken);
            Match qps = QueriesPerSecond().Match(report);
            return qps.Success ? double.Parse(qps.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException("dnsperf: " + report + await stderr);
        }
        finally
        {
            File.Delete(names);
        }
    }

    [GeneratedRegex(@"Queries per second:\s+([\d.]+)")]
    private static partial Regex QueriesPerSecond();
}
