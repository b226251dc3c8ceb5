using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using k8s;
using Switchboard.Kube.Client;
using Switchboard.Kube.Trace;

namespace Switchboard.Commands;

/// <summary>
/// <c>switchboard trace</c>: what the cluster's DNS answered and which endpoints the service proxies sent connections to,
/// with pod names, as <c>hubble observe</c> shows flows: the recent past from the components' buffers (<c>--last N</c>,
/// 20 by default) and, with <c>-f</c>, what comes next.
/// </summary>
internal static partial class TraceCommand
{
    private const int DefaultLast = 20;

    public static Command Create()
    {
        var kubeconfig = new Option<FileInfo?>("--kubeconfig") { Description = "kubeconfig of the cluster (default: $KUBECONFIG, then ~/.kube/config)" };
        var ns = new Option<string?>("--namespace", "-n") { Description = "Only events of pods, or names of services, in this namespace" };
        var pod = new Option<string?>("--pod") { Description = "Only events of this client pod ([NAMESPACE/]NAME)" };
        var service = new Option<string?>("--service") { Description = "Only lookups of, and connections to, this service ([NAMESPACE/]NAME)" };
        var protocol = new Option<string?>("--protocol") { Description = "Only dns, tcp or udp events" };
        protocol.AcceptOnlyFromAmong("dns", "tcp", "udp");
        var verdict = new Option<string[]>("--verdict") { Description = "Only these verdicts (ANSWERED, NXDOMAIN, SERVFAIL, REFUSED, FORWARDED, REJECTED, TIMEOUT, …), repeatable" };
        var since = new Option<TimeSpan?>("--since")
        {
            Description = "Only events newer than this (5s, 2m, 1h30m)",
            CustomParser = result => ParseDuration(result.Tokens[0].Value) ?? Fail(result, $"invalid duration \"{result.Tokens[0].Value}\""),
        };
        var last = new Option<int?>("--last") { Description = $"The last N events kept (default {DefaultLast} without -f)" };
        last.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 0)
            {
                result.AddError("--last must be 0 or more");
            }
        });
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing events as they happen" };
        var output = new Option<string>("--output", "-o") { Description = "text, or json (one object per line, docs/trace.md)", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");
        var command = new Command("trace", "Show what the cluster's DNS answered and where connections to services went, pod by pod (and, with -f, as it happens)")
        {
            kubeconfig, ns, pod, service, protocol, verdict, since, last, follow, output,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            string? path = result.GetValue(kubeconfig)?.FullName ?? KubeconfigPath();
            if (path is null || !File.Exists(path))
            {
                await Console.Error.WriteLineAsync("error: no kubeconfig: pass --kubeconfig FILE or set KUBECONFIG");
                return 1;
            }

            var filter = new TraceFilter
            {
                Namespace = result.GetValue(ns),
                Pod = result.GetValue(pod),
                Service = result.GetValue(service),
                Protocol = result.GetValue(protocol),
                Verdicts = result.GetValue(verdict) ?? [],
                Since = result.GetValue(since) is { } age ? DateTimeOffset.UtcNow - age : null,
            };
            bool json = result.GetValue(output) == "json";
            bool following = result.GetValue(follow);
            int? wanted = result.GetValue(last) ?? (following ? null : DefaultLast);
            try
            {
                await RunAsync(KubeconfigLoader.Load(path), filter, wanted, following, json, cancellationToken);
                return 0;
            }
            catch (TraceUnavailableException e)
            {
                await Console.Error.WriteLineAsync(e.Message);
                return 1;
            }
            catch (HttpRequestException e)
            {
                await Console.Error.WriteLineAsync($"error: cannot reach the API server: {e.Message}");
                return 1;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 0;
            }
        });
        return command;
    }

    /// <summary>
    /// The recent events of every source (DNS, each node's proxy), merged by time, the last <paramref name="last"/> that
    /// pass; then, when following, each new one as it comes from any of them. A source that cannot be read is named on
    /// stderr and the others go on; when none can, the first failure ends the command.
    /// </summary>
    private static async Task RunAsync(KubernetesClientConfiguration config, TraceFilter filter, int? last, bool follow, bool json, CancellationToken cancellationToken)
    {
        using var client = KubeClients.FromKubeconfig(config);
        var pods = new TracePods(client, TimeProvider.System);
        var source = new TraceSource(config);
        IReadOnlyList<string> paths = await TraceSource.PathsAsync(client, cancellationToken);
        long[] seen = [.. paths.Select(_ => -1L)];
        var failures = new TraceUnavailableException?[paths.Count];
        if (last is { } count)
        {
            var kept = new List<JsonObject>[paths.Count];
            await Task.WhenAll(paths.Select(async (path, i) =>
            {
                kept[i] = [];
                try
                {
                    await foreach (JsonObject e in source.ReadAsync(path, follow: false, last: null, cancellationToken))
                    {
                        seen[i] = Math.Max(seen[i], (long?)e["sequence"] ?? seen[i]);
                        if ((string?)e["type"] != "lost")
                        {
                            kept[i].Add(e);
                        }
                    }
                }
                catch (TraceUnavailableException e)
                {
                    failures[i] = e;
                }
            }));
            ThrowIfNoneRead(paths, failures, report: true);

            var recent = new Queue<JsonObject>();
            foreach (JsonObject e in kept.SelectMany(k => k).OrderBy(e => (string?)e["time"], StringComparer.Ordinal))
            {
                await pods.AnnotateAsync(e, cancellationToken);
                if (filter.Matches(e))
                {
                    recent.Enqueue(e);
                    if (recent.Count > count)
                    {
                        recent.Dequeue();
                    }
                }
            }

            foreach (JsonObject e in recent)
            {
                Print(e, json);
            }
        }

        if (!follow)
        {
            return;
        }

        // From where the first read ended (the buffer's whole length back, events already shown skipped), or from now.
        var events = Channel.CreateUnbounded<JsonObject>();
        Array.Clear(failures);
        Task readers = Task.WhenAll(paths.Select(async (path, i) =>
        {
            try
            {
                await foreach (JsonObject e in source.ReadAsync(path, follow: true, last: seen[i] >= 0 ? long.MaxValue / 2 : null, cancellationToken))
                {
                    if ((long?)e["sequence"] is not { } sequence || sequence > seen[i])
                    {
                        await events.Writer.WriteAsync(e, cancellationToken);
                    }
                }
            }
            catch (TraceUnavailableException e)
            {
                failures[i] = e;
                await Console.Error.WriteLineAsync($"{Source(path)}: {e.Message}");
            }
        })).ContinueWith(_ => events.Writer.TryComplete(), TaskScheduler.Default);
        await foreach (JsonObject e in events.Reader.ReadAllAsync(cancellationToken))
        {
            await pods.AnnotateAsync(e, cancellationToken);
            if (filter.Matches(e))
            {
                Print(e, json);
            }
        }

        await readers;
        ThrowIfNoneRead(paths, failures, report: false);
    }

    /// <summary>The first failure when no source could be read; else, with <paramref name="report"/>, each failed source named on stderr.</summary>
    private static void ThrowIfNoneRead(IReadOnlyList<string> paths, TraceUnavailableException?[] failures, bool report)
    {
        if (failures.All(f => f is not null) && failures.Length > 0)
        {
            throw failures[0]!;
        }

        for (int i = 0; i < paths.Count && report; i++)
        {
            if (failures[i] is { } failure)
            {
                Console.Error.WriteLine($"{Source(paths[i])}: {failure.Message}");
            }
        }
    }

    /// <summary>A stream's source as a person names it: dns, or the node whose proxy it is.</summary>
    private static string Source(string path) =>
        path == TraceSource.DnsPath ? "dns" : "proxy on node " + Uri.UnescapeDataString(path.Split('/')[3].Split(':')[0]);

    private static void Print(JsonObject e, bool json)
    {
        Console.Out.WriteLine(json ? e.ToJsonString() : TraceText.Format(e));
        Console.Out.Flush();
    }

    /// <summary>As kubectl: the first file of $KUBECONFIG that exists, else ~/.kube/config.</summary>
    internal static string? KubeconfigPath() =>
        Environment.GetEnvironmentVariable("KUBECONFIG") is { Length: > 0 } list
            ? list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(File.Exists)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config");

    /// <summary>Go's duration syntax as kubectl's <c>--since</c> takes it: <c>90s</c>, <c>5m</c>, <c>1h30m</c>.</summary>
    private static TimeSpan? ParseDuration(string text)
    {
        MatchCollection parts = DurationPart().Matches(text);
        if (parts.Count == 0 || string.Concat(parts.Select(p => p.Value)) != text)
        {
            return null;
        }

        double milliseconds = 0;
        foreach (Match part in parts)
        {
            double value = double.Parse(part.Groups[1].Value, CultureInfo.InvariantCulture);
            milliseconds += value * part.Groups[2].Value switch { "ms" => 1, "s" => 1000, "m" => 60_000, _ => 3_600_000 };
        }

        return TimeSpan.FromMilliseconds(milliseconds);
    }

    private static TimeSpan? Fail(System.CommandLine.Parsing.ArgumentResult result, string message)
    {
        result.AddError(message);
        return null;
    }

    [GeneratedRegex(@"(\d+(?:\.\d+)?)(ms|s|m|h)")]
    private static partial Regex DurationPart();
}
