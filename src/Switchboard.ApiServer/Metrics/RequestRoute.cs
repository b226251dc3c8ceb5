using System.Collections.Concurrent;
using System.Globalization;

namespace Switchboard.ApiServer.Metrics;

/// <summary>
/// The labels of one kind of request (verb, dry run, group, version, resource, subresource, scope), built once and
/// reused by every request of that kind, so counting a request allocates nothing.
/// </summary>
internal sealed class RequestRoute
{
    private const string Component = "apiserver";

    private readonly ConcurrentDictionary<int, KeyValuePair<string, object?>[]> _byCode = new();

    public RequestRoute(RouteKey key)
    {
        Tags =
        [
            new("verb", key.Verb), new("dry_run", key.DryRun), new("group", key.Group), new("version", key.Version),
            new("resource", key.Resource), new("subresource", key.Subresource), new("scope", key.Scope), new("component", Component),
        ];
        LongRunningTags = [.. Tags.Where(t => t.Key != "dry_run")];
        IsLongRunning = key.Verb == "WATCH";
    }

    /// <summary>apiserver_request_duration_seconds's labels.</summary>
    public KeyValuePair<string, object?>[] Tags { get; }

    /// <summary>apiserver_longrunning_requests's labels (no dry_run, as upstream).</summary>
    public KeyValuePair<string, object?>[] LongRunningTags { get; }

    /// <summary>Watches are long-running requests.</summary>
    public bool IsLongRunning { get; }

    /// <summary>apiserver_request_total's labels: <see cref="Tags"/> and the response code.</summary>
    public KeyValuePair<string, object?>[] WithCode(int code) =>
        _byCode.TryGetValue(code, out KeyValuePair<string, object?>[]? tags)
            ? tags
            : _byCode.GetOrAdd(code, static (code, route) => [.. route.Tags, new("code", code.ToString(CultureInfo.InvariantCulture))], this);
}
