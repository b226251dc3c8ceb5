using System.Globalization;
using Microsoft.AspNetCore.Http;
using Switchboard.Kube.Serialization;
using Switchboard.Node.Runtime;

namespace Switchboard.Node.Server;

/// <summary>
/// kubelet's <c>/containerLogs/{namespace}/{pod}/{container}</c>: the log of the container's current instance (or, with
/// <c>previous</c>, of the one before) from the files the node keeps, <c>text/plain</c>, with kubelet's options and its
/// 400s for a container that has no such log.
/// </summary>
internal sealed class ContainerLogHandler(NodeContainers containers, string stateDirectory, TimeProvider time)
{
    public const string Path = "/containerLogs";

    /// <summary>How often a followed log whose file has no new line looks again.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    public async Task ServeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var query = context.Request.Query;
        if (!TryReadOptions(query, time.GetUtcNow(), out var options, out string? problem))
        {
            await NodeContainers.WriteStatusAsync(context, StatusCodes.Status400BadRequest, "BadRequest", problem);
            return;
        }

        if (await containers.ResolveAsync(context, NodeContainers.Segments(context)) is not var (pod, _, container))
        {
            return;
        }

        string name = container.Name;
        int instance;
        Func<bool> ended;
        if (QueryFlag.IsTrue(query["previous"]))
        {
            if (container.LastTerminated is null || container.RestartCount < 1)
            {
                await NodeContainers.WriteStatusAsync(context, StatusCodes.Status400BadRequest, "BadRequest",
                    $"previous terminated container \"{name}\" in pod \"{pod.Metadata.Name}\" not found");
                return;
            }

            instance = container.RestartCount - 1;
            ended = () => true;
        }
        else if (container.Instance is { } current)
        {
            instance = container.RestartCount;
            ended = () => container.Instance != current || container.Exit is not null;
        }
        else
        {
            string reason = container.Waiting?.Reason switch
            {
                "ErrImagePull" => "image can't be pulled",
                "ImagePullBackOff" => "trying and failing to pull image",
                var other => other ?? "ContainerCreating",
            };
            await NodeContainers.WriteStatusAsync(context, StatusCodes.Status400BadRequest, "BadRequest",
                $"container \"{name}\" in pod \"{pod.Metadata.Name}\" is waiting to start: {reason}");
            return;
        }

        context.Response.ContentType = "text/plain";
        var reader = new CriLogReader(ContainerLogs.FilePath(stateDirectory, pod, name, instance), options, ended, Poll, time);
        try
        {
            await reader.CopyAsync(context.Response.Body, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The reader went away.
        }
    }

    /// <summary>PodLogOptions from the query, as kubelet decodes and validates them; false with the problem when they are wrong.</summary>
    private static bool TryReadOptions(IQueryCollection query, DateTimeOffset now, out LogReadOptions options, out string problem)
    {
        options = null!;
        problem = "";
        long? tailLines = null, sinceSeconds = null, limitBytes = null;
        DateTimeOffset? sinceTime = null;
        foreach (var (key, set) in (ReadOnlySpan<(string, Action<long>)>)[("tailLines", v => tailLines = v), ("sinceSeconds", v => sinceSeconds = v), ("limitBytes", v => limitBytes = v)])
        {
            if (query[key] is [{ Length: > 0 } text])
            {
                if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
                {
                    problem = $"{key}: strconv.ParseInt: parsing \"{text}\": invalid syntax";
                    return false;
                }

                set(value);
            }
        }

        if (query["sinceTime"] is [{ Length: > 0 } since])
        {
            if (!DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var parsed))
            {
                problem = $"parsing time \"{since}\" as RFC3339: cannot parse";
                return false;
            }

            sinceTime = parsed;
        }

        if (tailLines < 0 || limitBytes < 1 || sinceSeconds < 1 || (sinceSeconds is not null && sinceTime is not null))
        {
            problem = "invalid log options: tailLines must be >= 0, limitBytes and sinceSeconds > 0, and at most one of sinceTime or sinceSeconds may be given";
            return false;
        }

        // kubelet starts from the later of the two.
        DateTimeOffset? from = sinceSeconds is { } seconds ? now.AddSeconds(-seconds) : sinceTime;
        options = new LogReadOptions(QueryFlag.IsTrue(query["follow"]), QueryFlag.IsTrue(query["timestamps"]), tailLines, from, limitBytes);
        return true;
    }
}
