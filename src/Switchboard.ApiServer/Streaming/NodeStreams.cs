using System.Globalization;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.Streaming;

/// <summary>
/// The subresources the API server serves from a node rather than from the store: <c>pods/log</c>, <c>pods/exec</c>,
/// <c>pods/attach</c>, <c>pods/portforward</c> and <c>nodes/proxy</c>. Each is checked as kube-apiserver checks it (the pod,
/// its container, its node, the options), turned into the kubelet's path and query, and forwarded to the pod's node
/// by <see cref="KubeletProxy"/>; no pod code runs here.
/// </summary>
internal sealed class NodeStreams(ResourceStore<V1Pod> pods, KubeletClient kubelet)
{
    /// <summary>The pod subresources served here.</summary>
    public static bool IsPodStream(string subresource) => subresource is "log" or "exec" or "attach" or "portforward";

    public async Task PodAsync(HttpContext http, string ns, string name, string subresource)
    {
        ArgumentNullException.ThrowIfNull(http);
        string method = http.Request.Method;
        if (subresource == "log" ? method != "GET" : method is not ("GET" or "POST"))
        {
            throw ApiException.MethodNotRouted();
        }

        var query = http.Request.Query;
        if (subresource == "log")
        {
            await LogAsync(http, ns, name, query);
            return;
        }

        var pod = await pods.GetAsync(ns, name, http.RequestAborted);
        string kubeletPath;
        var forwarded = new List<KeyValuePair<string, string>>();
        if (subresource == "portforward")
        {
            kubeletPath = $"/portForward/{ns}/{name}";
            var ports = query["ports"].SelectMany(p => (p ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)).ToList();
            foreach (string port in ports)
            {
                if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number is < 1 or > 65535)
                {
                    throw ApiException.BadRequest($"invalid port {port}: must be between 1 and 65535, inclusive");
                }
            }

            if (ports.Count > 0)
            {
                forwarded.Add(new("port", string.Join(',', ports)));
            }
        }
        else
        {
            string container = ValidateContainer(query["container"], pod);
            kubeletPath = $"/{subresource}/{ns}/{name}/{container}";
            if (subresource == "exec")
            {
                forwarded.AddRange(query["command"].Select(c => new KeyValuePair<string, string>("command", c ?? "")));
            }

            // pods/exec and pods/attach name the streams stdin, stdout, stderr; kubelet input, output, error.
            foreach (var (api, node) in (ReadOnlySpan<(string, string)>)[("stdin", "input"), ("stdout", "output"), ("stderr", "error"), ("tty", "tty")])
            {
                if (QueryFlag.IsTrue(query[api]))
                {
                    forwarded.Add(new(node, "1"));
                }
            }
        }

        string host = NodeOf(pod);
        if (!KubeletProxy.IsUpgrade(http))
        {
            throw ApiException.BadRequest("Upgrade request required");
        }

        await ForwardAsync(http, host, kubeletPath, forwarded);
    }

    /// <summary>
    /// <c>nodes/NAME:PORT/proxy/PATH</c> (kube-apiserver's <c>[http:]NAME:PORT</c>): a GET to another port of the node's
    /// address over plain HTTP, such as the service proxy's <c>/metrics</c> and <c>/trace</c>.
    /// </summary>
    public async Task ProxyNodePortAsync(HttpContext http, string nodeName, int port, IEnumerable<string> path, ServiceProxy plain)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(plain);
        var node = await kubelet.LocateAsync(nodeName, http.RequestAborted);
        var target = new UriBuilder(Uri.UriSchemeHttp, node.Host, port)
        {
            Path = "/" + string.Join('/', path.Select(Uri.EscapeDataString)), Query = http.Request.QueryString.Value?.TrimStart('?') ?? "",
        };
        await plain.ForwardToAsync(http, target.Uri);
    }

    /// <summary><c>nodes/NAME/proxy/PATH</c>: the request as it came (method, query, body) to the node's PATH.</summary>
    public async Task ProxyNodeAsync(HttpContext http, string nodeName, IEnumerable<string> path)
    {
        ArgumentNullException.ThrowIfNull(http);
        var node = await kubelet.LocateAsync(nodeName, http.RequestAborted);
        var target = new UriBuilder(node) { Path = "/" + string.Join('/', path.Select(Uri.EscapeDataString)), Query = http.Request.QueryString.Value?.TrimStart('?') ?? "" };
        await KubeletProxy.ForwardAsync(http, kubelet, target.Uri);
    }

    private async Task LogAsync(HttpContext http, string ns, string name, IQueryCollection query)
    {
        var forwarded = new List<KeyValuePair<string, string>>();
        var errors = new List<FieldError>();
        foreach (string flag in (ReadOnlySpan<string>)["follow", "previous", "timestamps"])
        {
            if (QueryFlag.IsTrue(query[flag]))
            {
                forwarded.Add(new(flag, "true"));
            }
        }

        long? tailLines = Integer(query, "tailLines");
        long? sinceSeconds = Integer(query, "sinceSeconds");
        long? limitBytes = Integer(query, "limitBytes");
        DateTimeOffset? sinceTime = null;
        if (query["sinceTime"] is [{ Length: > 0 } since])
        {
            sinceTime = DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
                ? parsed
                : throw ApiException.BadRequest($"parsing time \"{since}\" as RFC3339: cannot parse");
        }

        // apimachinery's ValidatePodLogOptions.
        if (tailLines < 0)
        {
            errors.Add(FieldError.Invalid("tailLines", tailLines, "must be greater than or equal to 0"));
        }

        if (limitBytes < 1)
        {
            errors.Add(FieldError.Invalid("limitBytes", limitBytes, "must be greater than 0"));
        }

        if (sinceSeconds is not null && sinceTime is not null)
        {
            errors.Add(FieldError.Forbidden("", "at most one of `sinceTime` or `sinceSeconds` may be specified"));
        }
        else if (sinceSeconds < 1)
        {
            errors.Add(FieldError.Invalid("sinceSeconds", sinceSeconds, "must be greater than 0"));
        }

        if (errors.Count > 0)
        {
            throw ApiException.Invalid("PodLogOptions", name, "", errors);
        }

        AddIfSet(forwarded, "tailLines", tailLines);
        AddIfSet(forwarded, "sinceSeconds", sinceSeconds);
        AddIfSet(forwarded, "limitBytes", limitBytes);
        if (sinceTime is { } time)
        {
            forwarded.Add(new("sinceTime", time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)));
        }

        var pod = await pods.GetAsync(ns, name, http.RequestAborted);
        string container = ValidateContainer(query["container"], pod);
        if (string.IsNullOrEmpty(pod.Spec?.NodeName))
        {
            // kube-apiserver's log location of an unscheduled pod is none: an empty log.
            http.Response.ContentType = "text/plain";
            return;
        }

        if (!QueryFlag.IsTrue(query["previous"]) && WaitingReason(pod, container) is { } reason)
        {
            // What the kubelet answers for a container that has not run yet; saying it here spares the node a request.
            throw ApiException.BadRequest($"container \"{container}\" in pod \"{name}\" is waiting to start: {reason}");
        }

        await ForwardAsync(http, pod.Spec.NodeName, $"/containerLogs/{ns}/{name}/{container}", forwarded);
    }

    private async Task ForwardAsync(HttpContext http, string nodeName, string kubeletPath, IEnumerable<KeyValuePair<string, string>> query)
    {
        var node = await kubelet.LocateAsync(nodeName, http.RequestAborted);
        var target = new UriBuilder(node)
        {
            Path = kubeletPath,
            Query = string.Join('&', query.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value))),
        };
        await KubeletProxy.ForwardAsync(http, kubelet, target.Uri);
    }

    /// <summary>kube-apiserver's ValidateContainer: the named container must exist; none named is the only one, or a 400 listing them.</summary>
    private static string ValidateContainer(StringValues requested, V1Pod pod)
    {
        var all = (pod.Spec?.InitContainers ?? []).Select(c => c.Name)
            .Concat((pod.Spec?.Containers ?? []).Select(c => c.Name))
            .Concat((pod.Spec?.EphemeralContainers ?? []).Select(c => c.Name)).ToList();
        string name = pod.Metadata.Name;
        if (requested is [{ Length: > 0 } container])
        {
            return all.Contains(container) ? container : throw ApiException.BadRequest($"container {container} is not valid for pod {name}");
        }

        // kubectl picks the default-container annotation itself; the server only knows a pod's sole container.
        return (pod.Spec?.Containers?.Count ?? 0) switch
        {
            1 => pod.Spec!.Containers[0].Name,
            0 => throw ApiException.BadRequest($"a container name must be specified for pod {name}"),
            _ => throw ApiException.BadRequest($"a container name must be specified for pod {name}, choose one of: [{string.Join(' ', all)}]"),
        };
    }

    private static string NodeOf(V1Pod pod) =>
        string.IsNullOrEmpty(pod.Spec?.NodeName) ? throw ApiException.BadRequest($"pod {pod.Metadata.Name} does not have a host assigned") : pod.Spec.NodeName;

    /// <summary>
    /// The reason a container has not run yet, from the pod's status (none reported yet: ContainerCreating, what the
    /// node reports first); null once it has run, since a waiting container that ran before serves its last run's log.
    /// </summary>
    private static string? WaitingReason(V1Pod pod, string container)
    {
        var status = (pod.Status?.InitContainerStatuses ?? []).Concat(pod.Status?.ContainerStatuses ?? []).Concat(pod.Status?.EphemeralContainerStatuses ?? [])
            .FirstOrDefault(s => s.Name == container);
        if (status is null)
        {
            return pod.Status?.Phase is "Succeeded" or "Failed" ? null : "ContainerCreating";
        }

        if (status.State?.Waiting is not { } waiting || status.LastState?.Terminated is not null)
        {
            return null;
        }

        return waiting.Reason switch
        {
            "ErrImagePull" => "image can't be pulled",
            "ImagePullBackOff" => "trying and failing to pull image",
            var reason => reason,
        };
    }

    private static long? Integer(IQueryCollection query, string name)
    {
        if (query[name] is not [{ Length: > 0 } text])
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value)
            ? value
            : throw ApiException.BadRequest($"{name}: strconv.ParseInt: parsing \"{text}\": invalid syntax");
    }

    private static void AddIfSet(List<KeyValuePair<string, string>> query, string name, long? value)
    {
        if (value is { } set)
        {
            query.Add(new(name, set.ToString(CultureInfo.InvariantCulture)));
        }
    }
}
