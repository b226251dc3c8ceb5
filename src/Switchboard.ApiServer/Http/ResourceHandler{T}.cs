using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Patch;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Selectors;
using Switchboard.ApiServer.Tables;
using Switchboard.Kube.Selectors;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Http;

/// <summary>The REST verbs of one kind: get, list, watch, create, update, patch, delete, deletecollection, status, scale, binding (also as the "bindings" collection).</summary>
internal sealed class ResourceHandler<T> : IResourceHandler
    where T : class, IKubernetesObject<V1ObjectMeta>, new()
{
    private readonly ResourceStore<T> _store;
    private readonly RegistryContext _context;

    public ResourceHandler(ResourceKind<T> kind, RegistryContext context)
    {
        _store = new ResourceStore<T>(kind, context);
        _context = context;
    }

    public ResourceKind Kind => _store.Kind;

    public ResourceStore<T> Store => _store;

    private ResourceKind<T> TypedKind => _store.Kind;

    public async Task HandleAsync(HttpContext http, RequestInfo request)
    {
        string method = http.Request.Method;
        string? ns = request.Namespace;
        if (request.Resource == ResourceKind.Bindings)
        {
            await BindNamedByBodyAsync(http, request);
            return;
        }

        CheckSubresource(request.Subresource, method);
        if (request.Name is null)
        {
            switch (method)
            {
                case "GET" when IsTrue(http.Request.Query["watch"]):
                    await WatchAsync(http, ns);
                    return;
                case "GET":
                    await ListAsync(http, ns);
                    return;
                case "POST":
                    await CreateAsync(http, ns);
                    return;
                case "DELETE":
                    await DeleteCollectionAsync(http, ns);
                    return;
                default:
                    throw ApiException.MethodNotAllowed(method, Kind.Plural);
            }
        }

        string name = request.Name;
        if (request.Subresource == "scale")
        {
            await ScaleAsync(http, ns, name);
            return;
        }

        if (request.Subresource == "binding")
        {
            if (method != "POST")
            {
                throw ApiException.MethodNotRouted();
            }

            await BindAsync(http, ns, name);
            return;
        }

        switch (method)
        {
            case "GET":
                var obj = await _store.GetAsync(ns, name, http.RequestAborted);
                await WriteObjectAsync(http, 200, obj);
                return;
            case "PUT":
                var body = await ReadObjectAsync(http);
                var updated = await _store.UpdateAsync(ns, name, body, request.Subresource, IsDryRun(http), http.RequestAborted);
                await WriteObjectAsync(http, 200, updated);
                return;
            case "PATCH":
                await PatchAsync(http, ns, name, request.Subresource);
                return;
            case "DELETE" when request.Subresource is null:
                var deleted = await _store.DeleteAsync(ns, name, await ReadDeleteRequestAsync(http), http.RequestAborted);
                await WriteObjectAsync(http, 200, deleted);
                return;
            default:
                throw ApiException.MethodNotAllowed(method, Kind.Plural);
        }
    }

    private static bool IsTrue(string? value) => value is "true" or "1";

    private static bool IsDryRun(HttpContext http) => http.Request.Query["dryRun"].Any(v => v == "All");

    private void CheckSubresource(string? subresource, string method)
    {
        bool known = subresource switch
        {
            null => true,
            "status" => Kind.HasStatus,
            "scale" => Kind.HasScale,
            "binding" => Kind.HasBinding,
            "finalize" => Kind.Kind == "Namespace" && method == "PUT",
            _ => false,
        };
        if (!known)
        {
            throw ApiException.PathNotFound();
        }
    }

    private async Task ListAsync(HttpContext http, string? ns)
    {
        var query = http.Request.Query;
        var labels = LabelSelectorParameter.Parse(query["labelSelector"]);
        var fields = FieldSelector.Parse(query["fieldSelector"]);
        _store.CheckFieldSelector(fields);
        long limit = long.TryParse(query["limit"], out long l) && l > 0 ? l : 0;
        long revision = query["resourceVersionMatch"] == "Exact" && long.TryParse(query["resourceVersion"], out long rv) ? rv : 0;
        var result = await _store.ListAsync(ns, labels, fields, limit, query["continue"], revision, http.RequestAborted);
        string resourceVersion = result.Revision.ToString(CultureInfo.InvariantCulture);
        if (TableWriter.IsRequested(http.Request.Headers.Accept))
        {
            var table = TableWriter.Build(TypedKind.Strategy.TableColumns, result.Items, _context.Time.GetUtcNow(), query["includeObject"], resourceVersion, result.Continue, true);
            await ApiJson.WriteAsync(http, 200, table);
            return;
        }

        var metadata = new JsonObject { ["resourceVersion"] = resourceVersion };
        if (result.Continue is not null)
        {
            metadata["continue"] = result.Continue;
            if (result.RemainingItemCount is { } remaining)
            {
                metadata["remainingItemCount"] = remaining;
            }
        }

        await ApiJson.WriteAsync(http, 200, ListJson(metadata, result.Items));
    }

    /// <summary>A list document, each item serialized once straight into it (no JSON DOM per item: lists can be long).</summary>
    private string ListJson(JsonObject metadata, IEnumerable<T> items)
    {
        var json = new StringBuilder()
            .Append("{\"kind\":\"").Append(Kind.ListKind).Append("\",\"apiVersion\":\"").Append(Kind.GroupVersion)
            .Append("\",\"metadata\":").Append(metadata.ToJsonString()).Append(",\"items\":[");
        bool first = true;
        foreach (var item in items)
        {
            json.Append(first ? "" : ",").Append(KubernetesJson.Serialize(item));
            first = false;
        }

        return json.Append("]}").ToString();
    }

    private async Task CreateAsync(HttpContext http, string? ns)
    {
        var obj = await ReadObjectAsync(http);
        var created = await _store.CreateAsync(ns, obj, IsDryRun(http), http.RequestAborted);
        await WriteObjectAsync(http, 201, created);
    }

    private async Task DeleteCollectionAsync(HttpContext http, string? ns)
    {
        var query = http.Request.Query;
        var labels = LabelSelectorParameter.Parse(query["labelSelector"]);
        var fields = FieldSelector.Parse(query["fieldSelector"]);
        _store.CheckFieldSelector(fields);
        var options = await ReadDeleteRequestAsync(http);
        var result = await _store.ListAsync(ns, labels, fields, 0, null, 0, http.RequestAborted);
        var deleted = new List<T>();
        foreach (var item in result.Items)
        {
            try
            {
                deleted.Add(await _store.DeleteAsync(item.Metadata.NamespaceProperty, item.Metadata.Name, options, http.RequestAborted));
            }
            catch (ApiException e) when (e.Code == 404)
            {
                // Deleted concurrently: nothing left to do for it.
            }
        }

        var metadata = new JsonObject { ["resourceVersion"] = result.Revision.ToString(CultureInfo.InvariantCulture) };
        await ApiJson.WriteAsync(http, 200, ListJson(metadata, deleted));
    }

    private async Task PatchAsync(HttpContext http, string? ns, string name, string? subresource)
    {
        var patch = await ReadPatchAsync(http);
        var updated = await _store.UpdateWithAsync(ns, name, null, current => Patched(http, current, patch), subresource, IsDryRun(http), http.RequestAborted);
        await WriteObjectAsync(http, 200, updated);
    }

    private T Patched(HttpContext http, T current, JsonNode patch)
    {
        var node = ObjectCodec.ToNode(current);
        var patched = ApplyPatch(http, node, patch);
        CheckUnknownFields(http, patched);
        var obj = ObjectCodec.FromNode<T>(patched, Kind.Kind);
        obj.Metadata ??= new V1ObjectMeta();

        // A patch pins the version only if it names one explicitly.
        obj.Metadata.ResourceVersion = patched["metadata"]?["resourceVersion"] is JsonValue v && v.ToString() != current.Metadata.ResourceVersion ? v.ToString() : null;
        return obj;
    }

    private static JsonNode ApplyPatch(HttpContext http, JsonNode node, JsonNode patch)
    {
        string mediaType = RequestBody.MediaType(http.Request.ContentType);
        return mediaType switch
        {
            "application/json-patch+json" => JsonPatch.Apply(node, patch),
            "application/merge-patch+json" => MergePatch.Apply(node, patch) ?? new JsonObject(),
            "application/strategic-merge-patch+json" => StrategicMergePatch.Apply(node, patch) ?? new JsonObject(),
            _ => throw ApiException.UnsupportedMediaType(http.Request.ContentType ?? ""),
        };
    }

    private static async Task<JsonNode> ReadPatchAsync(HttpContext http)
    {
        string mediaType = RequestBody.MediaType(http.Request.ContentType);
        if (mediaType == "application/apply-patch+yaml")
        {
            throw ApiException.ServerSideApplyUnsupported();
        }

        if (mediaType is not ("application/json-patch+json" or "application/merge-patch+json" or "application/strategic-merge-patch+json"))
        {
            throw ApiException.UnsupportedMediaType(http.Request.ContentType ?? "");
        }

        return await RequestBody.ReadAsync(http);
    }

    private async Task ScaleAsync(HttpContext http, string? ns, string name)
    {
        var access = TypedKind.Scale!;
        switch (http.Request.Method)
        {
            case "GET":
                await ApiJson.WriteAsync(http, 200, ScaleOf(await _store.GetAsync(ns, name, http.RequestAborted), access));
                return;
            case "PUT" or "PATCH":
                var body = http.Request.Method == "PUT" ? await RequestBody.ReadAsync(http) : await ReadPatchAsync(http);
                var updated = await _store.UpdateWithAsync(ns, name, null, current =>
                {
                    var scale = http.Request.Method == "PUT" ? body : ApplyPatch(http, ScaleOf(current, access), body);
                    if (scale["metadata"]?["resourceVersion"]?.ToString() is { Length: > 0 } pinned && pinned != current.Metadata.ResourceVersion)
                    {
                        throw ApiException.StaleUpdate(Kind.Plural, name, Kind.Group);
                    }

                    int replicas = scale["spec"]?["replicas"]?.GetValue<int>() ?? 0;
                    if (replicas < 0)
                    {
                        throw ApiException.Invalid("Scale", name, "autoscaling", [FieldError.Invalid("spec.replicas", replicas, "must be greater than or equal to 0")]);
                    }

                    access.SetSpecReplicas(current, replicas);
                    current.Metadata.ResourceVersion = null;
                    return current;
                }, null, IsDryRun(http), http.RequestAborted);
                await ApiJson.WriteAsync(http, 200, ScaleOf(updated, access));
                return;
            default:
                throw ApiException.MethodNotAllowed(http.Request.Method, Kind.Plural + "/scale");
        }
    }

    private static JsonObject ScaleOf(T obj, ScaleAccess<T> access) => new()
    {
        ["kind"] = "Scale",
        ["apiVersion"] = "autoscaling/v1",
        ["metadata"] = new JsonObject
        {
            ["name"] = obj.Metadata.Name,
            ["namespace"] = obj.Metadata.NamespaceProperty,
            ["uid"] = obj.Metadata.Uid,
            ["resourceVersion"] = obj.Metadata.ResourceVersion,
            ["creationTimestamp"] = JsonNode.Parse(KubernetesJson.Serialize(obj.Metadata.CreationTimestamp)),
        },
        ["spec"] = new JsonObject { ["replicas"] = access.SpecReplicas(obj) },
        ["status"] = new JsonObject { ["replicas"] = access.StatusReplicas(obj), ["selector"] = access.Selector(obj) },
    };

    /// <summary>
    /// The namespaced "bindings" collection, as kube-apiserver's LegacyBindingREST: POST alone, and it is the /binding
    /// of the object the Binding itself names. Its create is not a subresource's, so upstream wipes the Binding's uid
    /// first (WipeObjectMetaSystemFields) and only a resourceVersion stays a precondition.
    /// </summary>
    private async Task BindNamedByBodyAsync(HttpContext http, RequestInfo request)
    {
        if (request.Namespace is not { } ns || request.Name is not null || request.Subresource is not null)
        {
            throw ApiException.PathNotFound();
        }

        if (http.Request.Method != "POST")
        {
            throw ApiException.MethodNotRouted();
        }

        await BindAsync(http, ns, null);
    }

    /// <summary>
    /// pods/binding, as kube-apiserver: the Binding names the pod of the URL (<paramref name="name"/>; null when the
    /// "bindings" collection takes it from the Binding), its uid and resourceVersion are preconditions on the pod, and
    /// success is 201 with a Success Status rather than an object.
    /// </summary>
    private async Task BindAsync(HttpContext http, string? ns, string? name)
    {
        var access = TypedKind.Binding!;
        var binding = await ReadBodyAsync<V1Binding>(http, V1Binding.KubeKind, V1Binding.KubeApiVersion, V1Binding.KubeApiVersion);
        binding.Metadata ??= new V1ObjectMeta();
        _store.CheckNamespaceOfBody(ns, binding.Metadata);
        if (name is null)
        {
            binding.Metadata.Uid = null;
        }
        else if (binding.Metadata.Name != name)
        {
            throw ApiException.BadRequest("name in URL does not match name in Binding object");
        }

        var errors = access.Validate(binding).ToList();
        if (errors.Count > 0)
        {
            throw ApiException.Invalid(V1Binding.KubeKind, binding.Metadata.Name ?? "", "", errors);
        }

        // Only through "bindings" can a Binding name no pod; upstream's storage key of the pod then refuses it.
        string pod = binding.Metadata.Name;
        if (string.IsNullOrEmpty(pod))
        {
            throw ApiException.BadRequest("Name parameter required.");
        }

        string? uid = string.IsNullOrEmpty(binding.Metadata.Uid) ? null : binding.Metadata.Uid;
        string? resourceVersion = string.IsNullOrEmpty(binding.Metadata.ResourceVersion) ? null : binding.Metadata.ResourceVersion;
        await _store.UpdateWithAsync(ns, pod, null, current =>
        {
            _store.CheckPreconditions(current, uid, resourceVersion);
            access.Bind(current, binding, _context.Now());
            return current;
        }, "binding", IsDryRun(http), http.RequestAborted);
        await ApiJson.WriteStatusAsync(http, new V1Status { Status = "Success", Code = StatusCodes.Status201Created });
    }

    private Task<T> ReadObjectAsync(HttpContext http) => ReadBodyAsync<T>(http, Kind.Kind, Kind.Version, Kind.GroupVersion);

    private async Task<TBody> ReadBodyAsync<TBody>(HttpContext http, string expectedKind, string version, string groupVersion)
    {
        var node = await RequestBody.ReadAsync(http);
        if (node is not JsonObject obj)
        {
            throw ApiException.BadRequest($"the body of the request is not a {expectedKind} object");
        }

        string? apiVersion = obj["apiVersion"]?.ToString();
        string? kind = obj["kind"]?.ToString();
        if ((kind is { Length: > 0 } && kind != expectedKind) || (apiVersion is { Length: > 0 } && apiVersion != groupVersion))
        {
            throw ApiException.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({groupVersion})" +
                (kind != expectedKind ? $" or kind {kind} is not {expectedKind}" : ""));
        }

        CheckUnknownFields(http, obj, typeof(TBody), expectedKind, version);
        return ObjectCodec.FromNode<TBody>(obj, expectedKind);
    }

    private void CheckUnknownFields(HttpContext http, JsonNode node) => CheckUnknownFields(http, node, typeof(T), Kind.Kind, Kind.Version);

    /// <summary>Server-side field validation: Strict rejects unknown fields (400), Warn (the default) reports them.</summary>
    private static void CheckUnknownFields(HttpContext http, JsonNode node, Type type, string kind, string version)
    {
        string directive = http.Request.Query["fieldValidation"].ToString();
        if (directive == "Ignore")
        {
            return;
        }

        var unknown = UnknownFields.Find(node, type);
        if (unknown.Count == 0)
        {
            return;
        }

        if (directive == "Strict")
        {
            throw ApiException.BadRequest($"{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error: " +
                string.Join(", ", unknown.Select(u => $"unknown field \"{u}\"")));
        }

        foreach (string field in unknown)
        {
            http.Response.Headers.Append("Warning", $"299 - \"unknown field \\\"{field}\\\"\"");
        }
    }

    private static async Task<DeleteRequest> ReadDeleteRequestAsync(HttpContext http)
    {
        var query = http.Request.Query;
        JsonNode? body = null;
        if (http.Request.ContentLength is > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
            string text = await reader.ReadToEndAsync(http.RequestAborted);
            if (!string.IsNullOrWhiteSpace(text))
            {
                try
                {
                    body = JsonNode.Parse(text);
                }
                catch (System.Text.Json.JsonException e)
                {
                    throw ApiException.BadRequest("DeleteOptions in body cannot be decoded: " + e.Message);
                }
            }
        }

        long? grace = body?["gracePeriodSeconds"]?.GetValue<long>() ?? (long.TryParse(query["gracePeriodSeconds"], out long g) ? g : null);
        string? policy = body?["propagationPolicy"]?.ToString() ?? (query["propagationPolicy"].ToString() is { Length: > 0 } p ? p : null);
        if (policy is null && body?["orphanDependents"]?.GetValue<bool>() == true)
        {
            policy = "Orphan";
        }

        bool dryRun = IsDryRun(http) || (body?["dryRun"] is JsonArray d && d.Any(v => v?.ToString() == "All"));
        return new DeleteRequest(policy, grace, body?["preconditions"]?["uid"]?.ToString(), body?["preconditions"]?["resourceVersion"]?.ToString(), dryRun);
    }

    private async Task WriteObjectAsync(HttpContext http, int code, T obj)
    {
        if (TableWriter.IsRequested(http.Request.Headers.Accept))
        {
            var table = TableWriter.Build(TypedKind.Strategy.TableColumns, [obj], _context.Time.GetUtcNow(), http.Request.Query["includeObject"], obj.Metadata.ResourceVersion, null, true);
            await ApiJson.WriteAsync(http, code, table);
            return;
        }

        await ApiJson.WriteObjectAsync(http, code, obj);
    }

    private async Task WatchAsync(HttpContext http, string? ns)
    {
        var query = http.Request.Query;
        var labels = LabelSelectorParameter.Parse(query["labelSelector"]);
        var fields = FieldSelector.Parse(query["fieldSelector"]);
        _store.CheckFieldSelector(fields);
        string? resourceVersion = query["resourceVersion"];
        bool sendInitial = IsTrue(query["sendInitialEvents"]);
        bool bookmarks = IsTrue(query["allowWatchBookmarks"]);
        var kv = _context.Store;
        var initial = new List<T>();
        long after;
        if (string.IsNullOrEmpty(resourceVersion) || resourceVersion == "0" || sendInitial)
        {
            var list = await _store.ListAsync(ns, labels, fields, 0, null, 0, http.RequestAborted);
            initial.AddRange(list.Items);
            after = list.Revision;
        }
        else
        {
            if (!long.TryParse(resourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out after))
            {
                throw ApiException.BadRequest($"invalid resource version: {resourceVersion}");
            }

            long compacted = await kv.GetCompactedRevisionAsync(http.RequestAborted);
            if (after < compacted)
            {
                throw ApiException.Expired($"too old resource version: {after} ({compacted})");
            }
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _context.Stopping);
        if (long.TryParse(query["timeoutSeconds"], out long seconds) && seconds > 0)
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(seconds));
        }

        var writer = new WatchWriter<T>(http, TypedKind.Strategy.TableColumns, _context.Time, Kind);
        await writer.StartAsync();
        using var stopBookmarks = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        var periodic = bookmarks ? WriteBookmarksAsync(writer, stopBookmarks.Token) : Task.CompletedTask;
        try
        {
            await StreamAsync(writer, initial, after, sendInitial || bookmarks, sendInitial, ns, labels, fields, timeout);
        }
        finally
        {
            await stopBookmarks.CancelAsync();
            await periodic;
        }
    }

    private async Task StreamAsync(WatchWriter<T> writer, List<T> initial, long after, bool bookmarkInitial, bool sendInitial, string? ns, LabelSelector labels, FieldSelector fields, CancellationTokenSource timeout)
    {
        try
        {
            foreach (var item in initial)
            {
                await writer.WriteAsync("ADDED", item, timeout.Token);
            }

            if (bookmarkInitial)
            {
                await writer.WriteBookmarkAsync(after, initialEventsEnd: sendInitial, timeout.Token);
            }

            await foreach (var change in _context.Store.WatchAsync(Kind.Prefix(ns), after, timeout.Token))
            {
                foreach (var (type, obj) in Translate(change, labels, fields))
                {
                    await writer.WriteAsync(type, obj, timeout.Token);
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            // timeoutSeconds elapsed, the client went away or the server is stopping: the stream simply ends.
        }
        catch (StorageException e) when (e.Error == StorageError.Compacted)
        {
            await writer.WriteErrorAsync(ApiException.Expired($"too old resource version: {after} ({e.Revision})").Status, CancellationToken.None);
        }
        catch (StorageException e) when (e.Error == StorageError.WatchCanceled)
        {
            // The store dropped a slow watcher. As kube-apiserver's watch cache closes an unresponsive watcher: the
            // stream just ends, no ERROR event, and the client watches again from the last version it got.
        }
    }

    /// <summary>Periodic bookmarks (allowWatchBookmarks) so an idle watcher's resourceVersion stays fresh, as kube-apiserver sends them.</summary>
    private async Task WriteBookmarksAsync(WatchWriter<T> writer, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_context.BookmarkInterval, _context.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await writer.WriteProgressBookmarkAsync(cancellationToken);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The watch ended or the client went away.
        }
    }

    /// <summary>
    /// Turns a key change into watch events as seen through the selectors (a change out of the selection is DELETED).
    /// Objects come from <see cref="SharedWatchCodec{T}"/>, shared with the other watches.
    /// </summary>
    private IEnumerable<(string Type, T Object)> Translate(WatchEvent change, LabelSelector labels, FieldSelector fields)
    {
        bool selective = !labels.IsEmpty || !fields.IsEmpty;
        if (change.Type == Storage.WatchEventType.Deleted)
        {
            if (change.Previous is { Value.Length: > 0 })
            {
                var previous = SharedWatchCodec<T>.DecodeDeleted(change);
                if (_store.Matches(previous, labels, fields))
                {
                    yield return ("DELETED", previous);
                }
            }

            yield break;
        }

        bool hadPrevious = change.Previous is { Value.Length: > 0 };
        bool wasIn = hadPrevious && (!selective || _store.Matches(SharedWatchCodec<T>.Decode(change.Previous!), labels, fields));
        var current = SharedWatchCodec<T>.Decode(change.Current);
        bool isIn = !selective || _store.Matches(current, labels, fields);
        if (isIn)
        {
            yield return (wasIn ? "MODIFIED" : "ADDED", current);
        }
        else if (wasIn)
        {
            yield return ("DELETED", current);
        }
    }
}
