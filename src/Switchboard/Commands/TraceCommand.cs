using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s;
using Switchboard.Kube.Client;
using Switchboard.Kube.Trace;

namespace Switchboard.Commands;

/// <summary>
/// <c>switchboard trace</c>: what the cluster's DNS answered, with pod names, as <c>hubble observe</c> shows flows:
/// the recent past from the server's buffer (<c>--last N</c>, 20 by default) and, with <c>-f</c>, what comes next.
/// </summary>
internal static partial class TraceCommand
{
    private const int DefaultLast = 20;

    public static Command Create()
    {
        var kubeconfig = new Option<FileInfo?>("--kubeconfig") { Description = "kubeconfig of the cluster (default: $KUBECONFIG, then ~/.kube/config)" };
        var ns = new Option<string?>("--namespace", "-n") { Description = "Only events of pods, or names of services, in this namespace" };
        var pod = new Option<string?>("--pod") { Description = "Only events of this client pod ([NAMESPACE/]NAME)" };
        var service = new Option<string?>("--service") { Description = "Only lookups of this service ([NAMESPACE/]NAME)" };
        var protocol = new Option<string?>("--protocol") { Description = "Only dns, tcp or udp events" };
        protocol.AcceptOnlyFromAmong("dns", "tcp", "udp");
        var verdict = new Option<string[]>("--verdict") { Description = "Only these verdicts (ANSWERED, NXDOMAIN, SERVFAIL, REFUSED, …), repeatable" };
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
        var command = new Command("trace", "Show what the cluster's DNS answered, pod by pod (and, with -f, as it happens)")
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
                await RunAsync(KubernetesClientConfiguration.BuildConfigFromConfigFile(path), filter, wanted, following, json, cancellationToken);
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

    /// <summary>The recent events (the last <paramref name="last"/> that pass), then, when following, each new one.</summary>
    private static async Task RunAsync(KubernetesClientConfiguration config, TraceFilter filter, int? last, bool follow, bool json, CancellationToken cancellationToken)
    {
        using var client = KubeClients.FromKubeconfig(config);
        var pods = new TracePods(client, TimeProvider.System);
        var source = new TraceSource(config);
        long seen = -1;
        if (last is { } count)
        {
            var recent = new Queue<JsonObject>();
            await foreach (JsonObject e in source.ReadAsync(follow: false, last: null, cancellationToken))
            {
                seen = Math.Max(seen, (long?)e["sequence"] ?? seen);
                await pods.AnnotateAsync(e, cancellationToken);
                if ((string?)e["type"] != "lost" && filter.Matches(e))
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
        await foreach (JsonObject e in source.ReadAsync(follow: true, last: seen >= 0 ? long.MaxValue / 2 : null, cancellationToken))
        {
            if ((long?)e["sequence"] is { } sequence && sequence <= seen)
            {
                continue;
            }

            await pods.AnnotateAsync(e, cancellationToken);
            if (filter.Matches(e))
            {
                Print(e, json);
            }
        }
    }

    private static void Print(JsonObject e, bool json)
    {
        Console.Out.WriteLine(json ? e.ToJsonString() : TraceText.Format(e));
        Console.Out.Flush();
    }

    /// <summary>As kubectl: the first file of $KUBECONFIG that exists, else ~/.kube/config.</summary>
    private static string? KubeconfigPath() =>
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
