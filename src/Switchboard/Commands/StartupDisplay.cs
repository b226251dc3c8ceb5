using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using Spectre.Console.Rendering;
using Switchboard.ApiServer;
using Switchboard.EtcdFront;
using Switchboard.Kube.Hosting;

namespace Switchboard.Commands;

/// <summary>
/// What <c>up</c> shows while it starts: on a terminal, a live table of the components and what each is waiting for,
/// then one summary of how to reach the cluster; otherwise (a pipe, a log file) the same summary as one log line.
/// </summary>
internal sealed partial class StartupDisplay(StartupDisplay.Endpoints endpoints, LogHold hold, ILogger logger)
{
    private static readonly string[] Spinner = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

    private static readonly Dictionary<string, string> Waits = new(StringComparer.Ordinal)
    {
        [ApiServerService.ComponentName] = "serving the API, writing the kubeconfig",
        ["controllers"] = "syncing the controllers' caches",
        ["dns"] = "loading the cluster zone",
        ["node"] = "registering the node, making its network namespace",
        ["proxy"] = "programming the service rules (first full sync)",
        ["metrics"] = "serving /metrics",
    };

    /// <summary>Where the cluster answers, for the summary: the DNS address for the host, the proxy mode, the node (if any).</summary>
    internal sealed record Endpoints(string Dns, string ProxyMode, string? Node, string? NodeNamespace);

    /// <summary>Whether stdout is a terminal that can redraw (not a pipe, not TERM=dumb).</summary>
    public static bool Interactive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Shows the start of <paramref name="components"/> until all are ready (then the summary) or the start is abandoned.</summary>
    public async Task WatchAsync(IReadOnlyList<Component> components, CancellationToken cancellationToken)
    {
        long start = Stopwatch.GetTimestamp();
        var readyAfter = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        Task allReady = Task.WhenAll(components.Select(async c =>
        {
            await c.WaitUntilReadyAsync(cancellationToken);
            lock (readyAfter)
            {
                readyAfter[c.Name] = Stopwatch.GetElapsedTime(start);
            }
        }));
        try
        {
            if (Interactive)
            {
                await ShowProgressAsync(components, readyAfter, allReady, start);
            }

            await allReady;
        }
        catch (OperationCanceledException)
        {
            // Stopped (or failed) before everything was ready: ComponentHost says why.
            return;
        }

        var api = components.OfType<ApiServerService>().Single();
        var etcd = components.OfType<EtcdFrontService>().SingleOrDefault();
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (Interactive)
        {
            AnsiConsole.Write(Summary(api, etcd, seconds));
        }
        else
        {
            LogUp(logger, seconds, api.Url.GetLeftPart(UriPartial.Authority), api.KubeconfigPath, endpoints.Dns, endpoints.ProxyMode, endpoints.Node ?? "none");
            if (etcd is not null)
            {
                LogEtcd(logger, etcd.EtcdctlCommand);
            }
        }
    }

    private async Task ShowProgressAsync(IReadOnlyList<Component> components, Dictionary<string, TimeSpan> readyAfter, Task allReady, long start)
    {
        hold.Holding = true;
        try
        {
            await AnsiConsole.Live(Progress(components, readyAfter, start)).AutoClear(false).StartAsync(async live =>
            {
                while (!allReady.IsCompleted)
                {
                    await Task.WhenAny(allReady, Task.Delay(TimeSpan.FromMilliseconds(100)));
                    live.UpdateTarget(Progress(components, readyAfter, start));

                    // Draw now, not at the display's next tick: the last component's "ready" must be on the screen
                    // before the summary replaces the table.
                    live.Refresh();
                }
            });
        }
        finally
        {
            hold.Holding = false;
        }
    }

    private static Table Progress(IReadOnlyList<Component> components, Dictionary<string, TimeSpan> readyAfter, long start)
    {
        var table = new Table().Border(TableBorder.None).HideHeaders().AddColumn("").AddColumn("").AddColumn("");
        int frame = (int)(Stopwatch.GetElapsedTime(start).TotalMilliseconds / 100) % Spinner.Length;
        lock (readyAfter)
        {
            foreach (var component in components)
            {
                bool ready = readyAfter.TryGetValue(component.Name, out var after);
                table.AddRow(
                    new Markup(ready ? "[green]✓[/]" : $"[yellow]{Spinner[frame]}[/]"),
                    new Markup($"[bold]{component.Name}[/]"),
                    new Markup(ready ? $"[grey]ready in {after.TotalSeconds:F1} s[/]" : Markup.Escape(Waits.GetValueOrDefault(component.Name, "starting")) + "…"));
            }
        }

        return table;
    }

    private IRenderable Summary(ApiServerService api, EtcdFrontService? etcd, double seconds)
    {
        var grid = new Grid().AddColumn(new GridColumn().PadRight(3)).AddColumn();
        grid.AddRow(new Markup("[bold]API[/]"), new Text(api.Url.GetLeftPart(UriPartial.Authority)));
        grid.AddRow(new Markup("[bold]kubectl[/]"), new Text($"export KUBECONFIG={api.KubeconfigPath}"));
        grid.AddRow(new Markup("[bold]web view[/]"), new Text($"{new Uri(api.Url, "/ui/")} (switchboard ui --kubeconfig {api.KubeconfigPath} logs you in)"));
        if (etcd is not null)
        {
            grid.AddRow(new Markup("[bold]etcd[/]"), new Text(etcd.EtcdctlCommand));
        }

        grid.AddRow(new Markup("[bold]DNS[/]"), new Text(endpoints.Dns));
        grid.AddRow(new Text(""), new Markup($"[grey]dig @{DigServer(endpoints.Dns)} kubernetes.default.svc.cluster.local[/]"));
        grid.AddRow(new Markup("[bold]proxy[/]"), new Text(endpoints.NodeNamespace is null ? endpoints.ProxyMode : $"{endpoints.ProxyMode}, rules in network namespace {endpoints.NodeNamespace}"));
        grid.AddRow(new Markup("[bold]node[/]"), new Text(endpoints.Node ?? "none (--nodes 0): pods wait for a node to join"));
        grid.AddRow(new Markup("[bold]stop[/]"), new Text("Ctrl-C here, or switchboard down"));
        return new Panel(grid).Header($"switchboard is up in {seconds:F1} s").Border(BoxBorder.Rounded);
    }

    /// <summary><c>127.0.0.1 -p 1053</c> for dig, from <c>127.0.0.1:1053</c>.</summary>
    private static string DigServer(string endpoint)
    {
        int colon = endpoint.LastIndexOf(':');
        return colon < 0 ? endpoint : $"{endpoint[..colon]} -p {endpoint[(colon + 1)..]}";
    }

    [LoggerMessage(EventId = 120, Level = LogLevel.Information,
        Message = "up in {Seconds:F1} s: API {Url}; export KUBECONFIG={Kubeconfig}; DNS {Dns}; proxy {ProxyMode}; node {Node}")]
    private static partial void LogUp(ILogger logger, double seconds, string url, string kubeconfig, string dns, string proxyMode, string node);

    [LoggerMessage(EventId = 121, Level = LogLevel.Information, Message = "etcd v3 API of the embedded store: {Etcdctl}")]
    private static partial void LogEtcd(ILogger logger, string etcdctl);
}
