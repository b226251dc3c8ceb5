using System.Text.Json.Nodes;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Switchboard.Node.Kubelet;

namespace Switchboard.Node.Server;

/// <summary>
/// Finds the container a streaming request names (<c>/containerLogs</c>, <c>/exec</c>, <c>/attach</c> take
/// <c>{namespace}/{pod}[/{uid}]/{container}</c>, <c>/portForward</c> <c>{namespace}/{pod}[/{uid}]</c>) among the pods this
/// node runs, and answers what it cannot serve with kubelet's Status errors: 404 for a pod it does not run, 400 for a
/// container the pod does not have.
/// </summary>
internal sealed class NodeContainers(Func<IEnumerable<(V1Pod Pod, PodState State)>> pods)
{
    /// <summary>The pod <paramref name="ns"/>/<paramref name="name"/> (of that uid when one is given), or null.</summary>
    public (V1Pod Pod, PodState State)? FindPod(string ns, string name, string? uid) =>
        pods().Where(p => p.Pod.Metadata.NamespaceProperty == ns && p.Pod.Metadata.Name == name && (uid is null || p.Pod.Metadata.Uid == uid))
            .Select(p => ((V1Pod, PodState)?)p).FirstOrDefault();

    /// <summary>
    /// The container named by the path segments after the handler's prefix (<c>ns/pod/container</c> or
    /// <c>ns/pod/uid/container</c>); on failure writes the Status and returns null.
    /// </summary>
    public async Task<(V1Pod Pod, PodState State, ContainerState Container)?> ResolveAsync(HttpContext context, IReadOnlyList<string> segments)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(segments);
        if (segments.Count is not (3 or 4))
        {
            await WriteStatusAsync(context, StatusCodes.Status404NotFound, "NotFound", "the path names no container: want {namespace}/{pod}[/{uid}]/{container}");
            return null;
        }

        string? uid = segments.Count == 4 ? segments[2] : null;
        string containerName = segments[^1];
        if (await FindOrAnswerAsync(context, segments[0], segments[1], uid) is not { } found)
        {
            return null;
        }

        if (!found.State.Containers.TryGetValue(containerName, out var container))
        {
            var names = (found.Pod.Spec.InitContainers ?? []).Concat(found.Pod.Spec.Containers).Concat(EphemeralContainers.Of(found.Pod)).Select(c => c.Name);
            await WriteStatusAsync(context, StatusCodes.Status400BadRequest, "BadRequest",
                $"container {containerName} is not valid for pod {found.Pod.Metadata.Name}; choose one of: [{string.Join(' ', names)}]");
            return null;
        }

        return (found.Pod, found.State, container);
    }

    /// <summary>
    /// The pod named by the path segments after the handler's prefix (<c>ns/pod</c> or <c>ns/pod/uid</c>, as
    /// <c>/portForward</c> takes); on failure writes the Status and returns null.
    /// </summary>
    public async Task<(V1Pod Pod, PodState State)?> ResolvePodAsync(HttpContext context, IReadOnlyList<string> segments)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(segments);
        if (segments.Count is not (2 or 3))
        {
            await WriteStatusAsync(context, StatusCodes.Status404NotFound, "NotFound", "the path names no pod: want {namespace}/{pod}[/{uid}]");
            return null;
        }

        return await FindOrAnswerAsync(context, segments[0], segments[1], segments.Count == 3 ? segments[2] : null);
    }

    /// <summary>The request path below the handler's prefix, split on '/'.</summary>
    public static string[] Segments(HttpContext context) =>
        (context?.Request.Path.Value ?? "").Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);

    private async Task<(V1Pod Pod, PodState State)?> FindOrAnswerAsync(HttpContext context, string ns, string name, string? uid)
    {
        var found = FindPod(ns, name, uid);
        if (found is null)
        {
            await WriteStatusAsync(context, StatusCodes.Status404NotFound, "NotFound", $"pod \"{name}\" not found in namespace \"{ns}\" on this node");
        }

        return found;
    }

    /// <summary>A metav1 Status, as kubelet answers a streaming request it cannot serve (kubectl and the API server decode it).</summary>
    public static async Task WriteStatusAsync(HttpContext context, int code, string reason, string message)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = code,
        };
        await context.Response.WriteAsync(status.ToJsonString(), context.RequestAborted);
    }
}
