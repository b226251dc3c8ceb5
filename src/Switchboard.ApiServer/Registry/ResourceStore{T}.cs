using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Selectors;
using Switchboard.ApiServer.Validation;
using Switchboard.Kube.Selectors;
using Switchboard.Kube.Serialization;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Registry;

/// <summary>
/// The generic registry of one kind over <see cref="IKeyValueStore"/>: metadata (uid, timestamps, generation,
/// generateName), optimistic concurrency on the store revision, status/spec separation, finalizers and
/// graceful deletion, and typed watches through selectors. Kind-specific behaviour comes from the
/// <see cref="ResourceStrategy{T}"/>. A storage failure leaves it only as the API error <see cref="StorageErrors"/> makes of it.
/// </summary>
internal sealed class ResourceStore<T>
    where T : class, IKubernetesObject<V1ObjectMeta>, new()
{
    private static readonly PropertyInfo? StatusProperty = FindStatusProperty();

    private readonly RegistryContext _context;

    public ResourceStore(ResourceKind<T> kind, RegistryContext context)
    {
        Kind = kind;
        _context = context;
    }

    public ResourceKind<T> Kind { get; }

    /// <summary>The registry's clock (creation and managedFields times).</summary>
    public DateTime Now() => _context.Now();

    private ResourceStrategy<T> Strategy => Kind.Strategy;

    private IKeyValueStore Store => _context.Store;

    public Task<T?> TryGetAsync(string? ns, string name, CancellationToken cancellationToken) => Translated(async () =>
    {
        var kv = await Store.GetAsync(Kind.Key(ns, name), cancellationToken);
        return kv is null ? null : ObjectCodec.Decode<T>(kv);
    });

    public async Task<T> GetAsync(string? ns, string name, CancellationToken cancellationToken) =>
        await TryGetAsync(ns, name, cancellationToken) ?? throw NotFound(name);

    /// <summary>Lists a collection, filtered by selectors, optionally paged (limit/continue, kube's token semantics).</summary>
    public async Task<ListResult<T>> ListAsync(string? ns, LabelSelector labels, FieldSelector fields, long limit, string? continueToken, long revision, CancellationToken cancellationToken)
    {
        string prefix = Kind.Prefix(ns);
        string? startAfter = null;
        if (!string.IsNullOrEmpty(continueToken))
        {
            (revision, startAfter) = ContinueToken.Decode(continueToken, prefix);
        }

        var items = new List<T>();
        long readAt = revision;
        try
        {
            while (true)
            {
                long pageSize = limit > 0 ? Math.Max(limit - items.Count, 1) : 0;
                var page = new ListPage(this, labels, fields, items);
                var summary = await Store.RangeAsync(prefix, new RangeOptions(pageSize, readAt, startAfter), page, cancellationToken);
                readAt = summary.Revision;
                startAfter = page.LastKey ?? startAfter;
                if (!summary.More)
                {
                    return new ListResult<T>(items, readAt, null, null);
                }

                if (limit > 0 && items.Count >= limit)
                {
                    return new ListResult<T>(items, readAt, ContinueToken.Encode(readAt, startAfter!), labels.IsEmpty && fields.IsEmpty ? summary.Count - page.Visited : null);
                }
            }
        }
        catch (StorageException e)
        {
            throw StorageErrors.ToApi(e, revision, continuing: continueToken is not null);
        }
    }

    /// <summary>
    /// Opens a watch of a collection through selectors: from the current state when <paramref name="after"/> is null
    /// (its objects come first, as ADDED events do), else from just after that revision, which must not be compacted
    /// (410 Expired). A change that takes an object out of the selection is its DELETED event. With
    /// <paramref name="progress"/>, Bookmark events (an object with only its resourceVersion) tell how far the watch has
    /// got without events for it: the store's progress on a quiet collection, and the changes the selectors leave out.
    /// </summary>
    public async Task<ResourceWatch<T>> WatchAsync(string? ns, LabelSelector labels, FieldSelector fields, long? after, bool progress, CancellationToken cancellationToken)
    {
        if (after is not { } from)
        {
            var list = await ListAsync(ns, labels, fields, 0, null, 0, cancellationToken);
            return new ResourceWatch<T>(list.Items, list.Revision, ChangesAsync(ns, labels, fields, list.Revision, progress, default));
        }

        long compacted = await Translated(() => Store.GetCompactedRevisionAsync(cancellationToken));
        if (from < compacted)
        {
            throw StorageErrors.TooOld(from, compacted);
        }

        return new ResourceWatch<T>([], from, ChangesAsync(ns, labels, fields, from, progress, default));
    }

    public bool Matches(T obj, LabelSelector labels, FieldSelector fields) =>
        labels.Matches(obj.Metadata.Labels) && fields.Matches(f => FieldValue(obj, f));

    /// <summary>Rejects field selectors this kind cannot evaluate (400, as upstream).</summary>
    public void CheckFieldSelector(FieldSelector fields)
    {
        foreach (string field in fields.Fields)
        {
            if (field is not ("metadata.name" or "metadata.namespace") && !Strategy.SelectableFields.ContainsKey(field))
            {
                throw ApiException.BadRequest($"field label not supported: {field}");
            }
        }
    }

    /// <summary>Creates an object; <paramref name="writer"/>, when given, is recorded in its managedFields.</summary>
    public Task<T> CreateAsync(string? ns, T obj, bool dryRun, CancellationToken cancellationToken, FieldWriter? writer = null) =>
        Translated(() => CreateCoreAsync(ns, obj, dryRun, writer, cancellationToken));

    private async Task<T> CreateCoreAsync(string? ns, T obj, bool dryRun, FieldWriter? writer, CancellationToken cancellationToken)
    {
        obj.Metadata ??= new V1ObjectMeta();
        var meta = obj.Metadata;
        CheckNamespaceOfBody(ns, meta);
        meta.NamespaceProperty = Kind.Namespaced ? ns : null;
        if (Kind.Namespaced)
        {
            await RequireWritableNamespaceAsync(ns!, cancellationToken);
        }

        bool generated = string.IsNullOrEmpty(meta.Name) && !string.IsNullOrEmpty(meta.GenerateName);
        var applied = writer is { IsApply: true } ? meta.ManagedFields : null;
        for (int attempt = 0; ; attempt++)
        {
            if (generated)
            {
                meta.Name = _context.GenerateName(meta.GenerateName);
            }

            obj.ApiVersion = Kind.GroupVersion;
            obj.Kind = Kind.Kind;
            meta.Uid = Guid.NewGuid().ToString();
            meta.CreationTimestamp = _context.Now();
            meta.DeletionTimestamp = null;
            meta.DeletionGracePeriodSeconds = null;
            meta.ResourceVersion = null;
            meta.Generation = 1;
            meta.ManagedFields = null;
            meta.SelfLink = null;
            if (Kind.HasStatus && StatusProperty is not null)
            {
                StatusProperty.SetValue(obj, null);
            }

            Strategy.Default(obj);
            meta.ManagedFields = writer is null ? null : writer.IsApply ? applied : writer.Track(null, obj, null, _context.Now());
            await Strategy.AdmitCreateAsync(obj, cancellationToken);
            Validate(obj, Strategy.Validate(obj));
            if (dryRun)
            {
                await Strategy.PrepareCreateAsync(obj, dryRun: true, cancellationToken);
                return obj;
            }

            await Strategy.PrepareCreateAsync(obj, dryRun: false, cancellationToken);
            try
            {
                var kv = await Strategy.StoreCreateAsync(Store, Kind.Key(ns, meta.Name), obj, cancellationToken);
                meta.ResourceVersion = kv.ModRevision.ToString(CultureInfo.InvariantCulture);
                return obj;
            }
            catch (StorageException e) when (e.Error == StorageError.KeyExists)
            {
                await Strategy.RollbackAsync(obj, null, cancellationToken);
                if (!generated || attempt >= 8)
                {
                    throw ApiException.AlreadyExists(Kind.Plural, meta.Name, Kind.Group);
                }
            }
            catch
            {
                await Strategy.RollbackAsync(obj, null, cancellationToken);
                throw;
            }
        }
    }

    /// <summary>Replaces an object (PUT) on the main resource or a subresource (status, finalize).</summary>
    public async Task<T> UpdateAsync(string? ns, string name, T obj, string? subresource, bool dryRun, CancellationToken cancellationToken, FieldWriter? writer = null)
    {
        obj.Metadata ??= new V1ObjectMeta();
        CheckNamespaceOfBody(ns, obj.Metadata);
        if (!string.IsNullOrEmpty(obj.Metadata.Name) && obj.Metadata.Name != name)
        {
            throw ApiException.BadRequest($"the name of the object ({obj.Metadata.Name}) does not match the name on the URL ({name})");
        }

        obj.Metadata.Name = name;
        string? expected = obj.Metadata.ResourceVersion;
        return await UpdateCoreAsync(ns, name, expected, _ => obj, subresource, dryRun, writer, cancellationToken);
    }

    /// <summary>
    /// Read-modify-write with compare-and-swap on the store revision: <paramref name="mutate"/> gets the current
    /// object (a copy) and returns the desired one. Retries on a concurrent write unless the caller pinned
    /// <paramref name="expectedResourceVersion"/>, in which case a stale version is 409 Conflict.
    /// </summary>
    public Task<T> UpdateWithAsync(string? ns, string name, string? expectedResourceVersion, Func<T, T> mutate, string? subresource, bool dryRun, CancellationToken cancellationToken, FieldWriter? writer = null) =>
        UpdateCoreAsync(ns, name, expectedResourceVersion, current => mutate(current is null ? new T { Metadata = new V1ObjectMeta { Name = name } } : ObjectCodec.Decode<T>(current)), subresource, dryRun, writer, cancellationToken);

    /// <summary><see cref="UpdateWithAsync"/> with the desired object made from the stored one (null: there is none).</summary>
    private Task<T> UpdateCoreAsync(string? ns, string name, string? expectedResourceVersion, Func<KeyValue?, T> desired, string? subresource, bool dryRun, FieldWriter? writer, CancellationToken cancellationToken) =>
        Translated(() => ReadModifyWriteAsync(ns, name, expectedResourceVersion, desired, subresource, dryRun, writer, cancellationToken));

    private async Task<T> ReadModifyWriteAsync(string? ns, string name, string? expectedResourceVersion, Func<KeyValue?, T> desired, string? subresource, bool dryRun, FieldWriter? writer, CancellationToken cancellationToken)
    {
        string key = Kind.Key(ns, name);
        while (true)
        {
            var current = await Store.GetAsync(key, cancellationToken);
            if (current is null)
            {
                if (Kind.AllowCreateOnUpdate && subresource is null)
                {
                    var created = desired(null);
                    created.Metadata ??= new V1ObjectMeta();
                    created.Metadata.Name = name;
                    return await CreateCoreAsync(ns, created, dryRun, writer, cancellationToken);
                }

                throw NotFound(name);
            }

            var old = ObjectCodec.Decode<T>(current);
            var obj = desired(current);
            obj.Metadata ??= new V1ObjectMeta();
            string? pinned = expectedResourceVersion ?? obj.Metadata.ResourceVersion;
            if (!string.IsNullOrEmpty(pinned) && pinned != old.Metadata.ResourceVersion)
            {
                throw ApiException.StaleUpdate(Kind.Plural, name, Kind.Group);
            }

            var desiredFields = obj.Metadata.ManagedFields;
            obj = Merge(obj, old, current, subresource);
            Strategy.Default(obj);
            obj.Metadata.ManagedFields = desiredFields;
            obj.Metadata.ManagedFields = writer is null ? old.Metadata.ManagedFields : writer.IsApply ? desiredFields : writer.Track(old, obj, subresource, _context.Now());

            // A binding was checked by its own rules (BindingAccess), and, as upstream's BindingREST, bypasses the kind's
            // update checks: it is the one way to set a pod's spec.nodeName.
            Validate(obj, subresource switch
            {
                "binding" => [],
                null => Strategy.ValidateUpdate(obj, old),
                _ => Strategy.ValidateSubresourceUpdate(obj, old, subresource),
            });
            ValidateImmutableMetadata(obj, old);

            var change = StoredChanges.Between(current.Value, ObjectCodec.Encode(obj));
            if (change == StoredChange.None)
            {
                return old;
            }

            if (subresource is null && change == StoredChange.Spec)
            {
                obj.Metadata.Generation = (old.Metadata.Generation ?? 0) + 1;
            }

            if (dryRun)
            {
                await Strategy.PrepareUpdateAsync(obj, old, dryRun: true, cancellationToken);
                return obj;
            }

            await Strategy.PrepareUpdateAsync(obj, old, dryRun: false, cancellationToken);
            try
            {
                if (obj.Metadata.DeletionTimestamp is not null && Strategy.FinalizersDone(obj))
                {
                    // The last finalizer is gone: the object goes away now.
                    var gone = await Strategy.StoreDeleteAsync(Store, key, obj, current.ModRevision, cancellationToken);
                    await Strategy.ReleaseAsync(obj, cancellationToken);
                    obj.Metadata.ResourceVersion = gone.Revision.ToString(CultureInfo.InvariantCulture);
                    return obj;
                }

                var kv = await Store.UpdateAsync(key, ObjectCodec.Encode(obj), current.ModRevision, null, cancellationToken);
                obj.Metadata.ResourceVersion = kv.ModRevision.ToString(CultureInfo.InvariantCulture);
                await Strategy.AfterUpdateAsync(obj, old, cancellationToken);
                return obj;
            }
            catch (StorageException e) when (e.Error is StorageError.RevisionMismatch or StorageError.KeyNotFound)
            {
                await Strategy.RollbackAsync(obj, old, cancellationToken);
                if (!string.IsNullOrEmpty(pinned))
                {
                    throw ApiException.StaleUpdate(Kind.Plural, name, Kind.Group);
                }
            }
            catch
            {
                await Strategy.RollbackAsync(obj, old, cancellationToken);
                throw;
            }
        }
    }

    /// <summary>
    /// Deletes an object, or only marks it (deletionTimestamp) while finalizers remain, the propagation policy asks
    /// for the garbage collector's help, or the kind deletes gracefully. Returns the object as last seen.
    /// </summary>
    public Task<T> DeleteAsync(string? ns, string name, DeleteRequest request, CancellationToken cancellationToken) =>
        Translated(() => DeleteCoreAsync(ns, name, request, cancellationToken));

    private async Task<T> DeleteCoreAsync(string? ns, string name, DeleteRequest request, CancellationToken cancellationToken)
    {
        string key = Kind.Key(ns, name);
        while (true)
        {
            var current = await Store.GetAsync(key, cancellationToken) ?? throw NotFound(name);
            var obj = ObjectCodec.Decode<T>(current);
            var meta = obj.Metadata;
            CheckPreconditions(obj, request.PreconditionUid, request.PreconditionResourceVersion);
            string? gcFinalizer = request.PropagationPolicy switch
            {
                "Foreground" => "foregroundDeletion",
                "Orphan" => "orphan",
                _ => null,
            };
            bool graceful = Strategy.DeletesGracefully(obj, request.GracePeriodSeconds);
            bool finalizersPending = !Strategy.FinalizersDone(obj);
            if (meta.DeletionTimestamp is not null && !(request.GracePeriodSeconds == 0 && !finalizersPending))
            {
                // Already being deleted: nothing more to do until the finalizers are gone, unless a zero grace period
                // (kubectl delete --force, or the kubelet confirming a pod stopped) ends it, as upstream.
                return obj;
            }

            if (finalizersPending || gcFinalizer is not null || (graceful && request.GracePeriodSeconds != 0))
            {
                if (gcFinalizer is not null && !(meta.Finalizers?.Contains(gcFinalizer) ?? false))
                {
                    meta.Finalizers = [.. meta.Finalizers ?? [], gcFinalizer];
                }

                meta.DeletionTimestamp ??= _context.Now();
                meta.DeletionGracePeriodSeconds = request.GracePeriodSeconds ?? (graceful ? 30 : 0);
                Strategy.MarkDeleting(obj);
                if (request.DryRun)
                {
                    return obj;
                }

                try
                {
                    var kv = await Store.UpdateAsync(key, ObjectCodec.Encode(obj), current.ModRevision, null, cancellationToken);
                    meta.ResourceVersion = kv.ModRevision.ToString(CultureInfo.InvariantCulture);
                    return obj;
                }
                catch (StorageException e) when (e.Error is StorageError.RevisionMismatch or StorageError.KeyNotFound)
                {
                    continue;
                }
            }

            if (request.DryRun)
            {
                return obj;
            }

            try
            {
                var deleted = await Strategy.StoreDeleteAsync(Store, key, obj, current.ModRevision, cancellationToken);
                await Strategy.ReleaseAsync(obj, cancellationToken);
                meta.ResourceVersion = deleted.Revision.ToString(CultureInfo.InvariantCulture);
                return obj;
            }
            catch (StorageException e) when (e.Error is StorageError.RevisionMismatch or StorageError.KeyNotFound)
            {
                if (e.Error == StorageError.KeyNotFound)
                {
                    throw NotFound(name);
                }
            }
        }
    }

    /// <summary>The preconditions of a delete or a binding: a uid or resourceVersion given (not null) must be the object's, else 409.</summary>
    public void CheckPreconditions(T obj, string? uid, string? resourceVersion)
    {
        var meta = obj.Metadata;
        if (uid is not null && uid != meta.Uid)
        {
            throw ApiException.Conflict(Kind.Plural, meta.Name, Kind.Group, $"Precondition failed: UID in precondition: {uid}, UID in object meta: {meta.Uid}");
        }

        if (resourceVersion is not null && resourceVersion != meta.ResourceVersion)
        {
            throw ApiException.Conflict(Kind.Plural, meta.Name, Kind.Group, $"Precondition failed: ResourceVersion in precondition: {resourceVersion}, ResourceVersion in object meta: {meta.ResourceVersion}");
        }
    }

    public string? FieldValue(T obj, string field) => field switch
    {
        "metadata.name" => obj.Metadata.Name,
        "metadata.namespace" => obj.Metadata.NamespaceProperty,
        _ => Strategy.SelectableFields.TryGetValue(field, out var get) ? get(obj) : null,
    };

    public ApiException NotFound(string name) => ApiException.NotFound(Kind.Plural, name, Kind.Group);

    /// <summary>Runs a store operation; a storage failure comes out as its API error.</summary>
    private static async Task<TResult> Translated<TResult>(Func<Task<TResult>> operation)
    {
        try
        {
            return await operation();
        }
        catch (StorageException e)
        {
            throw StorageErrors.ToApi(e);
        }
    }

    private async IAsyncEnumerable<ResourceEvent<T>> ChangesAsync(string? ns, LabelSelector labels, FieldSelector fields, long after, bool progress, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Twice per bookmark interval, so a periodic bookmark is at most about one and a half intervals behind the store.
        var interval = progress ? _context.BookmarkInterval / 2 : Timeout.InfiniteTimeSpan;
        await using var changes = Store.WatchAsync(Kind.Prefix(ns), after, interval, cancellationToken).GetAsyncEnumerator(cancellationToken);

        // The last revision the store gave (a change or its progress), and the last one this watch told.
        long passed = after;
        long told = after;
        while (true)
        {
            var next = changes.MoveNextAsync();
            if (progress && passed > told && !next.IsCompleted)
            {
                // Nothing more is ready: the watch has passed the changes the selectors left out, and the store's progress.
                yield return new(k8s.WatchEventType.Bookmark, new T { Metadata = new V1ObjectMeta { ResourceVersion = passed.ToString(CultureInfo.InvariantCulture) } });
                told = passed;
            }

            try
            {
                if (!await next)
                {
                    yield break;
                }
            }
            catch (StorageException e) when (e.Error == StorageError.WatchCanceled)
            {
                // The store dropped a slow watcher. As kube-apiserver's watch cache closes an unresponsive watcher: the
                // watch just ends, no error, and the client watches again from the last version it got.
                yield break;
            }
            catch (StorageException e)
            {
                throw StorageErrors.ToApi(e, after);
            }

            var change = changes.Current;
            passed = change.Revision;
            if (change.Type == Storage.WatchEventType.Progress)
            {
                continue;
            }

            foreach (var resourceEvent in Translate(change, labels, fields))
            {
                yield return resourceEvent;
                told = passed;
            }
        }
    }

    /// <summary>
    /// Turns a key change into watch events as seen through the selectors (a change out of the selection is DELETED).
    /// Objects come from <see cref="SharedWatchObjects{T}"/>, shared with the other watches.
    /// </summary>
    private IEnumerable<ResourceEvent<T>> Translate(WatchEvent change, LabelSelector labels, FieldSelector fields)
    {
        bool selective = !labels.IsEmpty || !fields.IsEmpty;
        if (change.Type == Storage.WatchEventType.Deleted)
        {
            if (change.Previous is { Value.Length: > 0 })
            {
                var previous = SharedWatchObjects<T>.DecodeDeleted(change);
                if (Matches(previous, labels, fields))
                {
                    yield return new(k8s.WatchEventType.Deleted, previous);
                }
            }

            yield break;
        }

        bool hadPrevious = change.Previous is { Value.Length: > 0 };
        bool wasIn = hadPrevious && (!selective || Matches(SharedWatchObjects<T>.DecodePrevious(change), labels, fields));
        var current = SharedWatchObjects<T>.Decode(change);
        bool isIn = !selective || Matches(current, labels, fields);
        if (isIn)
        {
            yield return new(wasIn ? k8s.WatchEventType.Modified : k8s.WatchEventType.Added, current);
        }
        else if (wasIn)
        {
            yield return new(k8s.WatchEventType.Deleted, current);
        }
    }

    /// <summary>
    /// Takes from <paramref name="obj"/> only what the target may change: the main resource keeps the old status,
    /// /status keeps everything but status, /finalize only changes spec.finalizers, /binding may change all of it (a
    /// pod's node, annotations and PodScheduled condition). Server-owned metadata stays.
    /// </summary>
    private T Merge(T obj, T old, KeyValue stored, string? subresource)
    {
        T result;
        if (subresource is "status" or "finalize" or "ephemeralcontainers")
        {
            result = ObjectCodec.Decode<T>(stored);
            if (subresource == "status")
            {
                StatusProperty?.SetValue(result, StatusProperty.GetValue(obj));
            }
            else if (result is V1Namespace ns && obj is V1Namespace wanted)
            {
                ns.Spec = wanted.Spec;
            }
            else if (result is V1Pod pod && obj is V1Pod withEphemeral)
            {
                pod.Spec.EphemeralContainers = withEphemeral.Spec?.EphemeralContainers;
            }
        }
        else
        {
            result = obj;
            if (subresource != "binding" && Kind.HasStatus && StatusProperty is not null)
            {
                StatusProperty.SetValue(result, StatusProperty.GetValue(old));
            }
        }

        result.ApiVersion = Kind.GroupVersion;
        result.Kind = Kind.Kind;
        var meta = result.Metadata;
        meta.Name = old.Metadata.Name;
        meta.NamespaceProperty = old.Metadata.NamespaceProperty;
        meta.Uid = old.Metadata.Uid;
        meta.CreationTimestamp = old.Metadata.CreationTimestamp;
        meta.DeletionTimestamp = old.Metadata.DeletionTimestamp;
        meta.DeletionGracePeriodSeconds = old.Metadata.DeletionGracePeriodSeconds;
        meta.Generation = old.Metadata.Generation;
        meta.GenerateName = old.Metadata.GenerateName;
        meta.ManagedFields = null;
        meta.SelfLink = null;
        meta.ResourceVersion = old.Metadata.ResourceVersion;
        return result;
    }

    private void ValidateImmutableMetadata(T obj, T old)
    {
        // Once deletion has started, finalizers may only be removed.
        if (old.Metadata.DeletionTimestamp is not null)
        {
            var added = (obj.Metadata.Finalizers ?? []).Except(old.Metadata.Finalizers ?? []).ToList();
            if (added.Count > 0)
            {
                throw ApiException.Invalid(Kind.Kind, old.Metadata.Name, Kind.Group, [FieldError.Forbidden("metadata.finalizers", $"no new finalizers can be added if the object is being deleted, found new finalizers [{string.Join(" ", added)}]")]);
            }
        }
    }

    private void Validate(T obj, IEnumerable<FieldError> kindErrors)
    {
        var errors = new List<FieldError>();
        var meta = obj.Metadata;
        if (string.IsNullOrEmpty(meta.Name))
        {
            errors.Add(FieldError.Required("metadata.name", "name or generateName is required"));
        }
        else
        {
            errors.AddRange(NameValidation.Check(Strategy.NameRule, meta.Name).Select(m => FieldError.Invalid("metadata.name", meta.Name, m)));
        }

        foreach (var (k, v) in meta.Labels ?? new Dictionary<string, string>())
        {
            if (!NameValidation.IsQualifiedName(k))
            {
                errors.Add(FieldError.Invalid("metadata.labels", k, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"));
            }

            if (!NameValidation.IsLabelValue(v))
            {
                errors.Add(FieldError.Invalid($"metadata.labels", v, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"));
            }
        }

        foreach (string k in meta.Annotations?.Keys ?? [])
        {
            if (!NameValidation.IsQualifiedName(k.ToLowerInvariant()))
            {
                errors.Add(FieldError.Invalid("metadata.annotations", k, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
            }
        }

        errors.AddRange(kindErrors);
        if (errors.Count > 0)
        {
            throw ApiException.Invalid(Kind.Kind, meta.Name ?? meta.GenerateName ?? "", Kind.Group, errors);
        }
    }

    public void CheckNamespaceOfBody(string? ns, V1ObjectMeta meta)
    {
        if (Kind.Namespaced && !string.IsNullOrEmpty(meta.NamespaceProperty) && meta.NamespaceProperty != ns)
        {
            throw ApiException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }
    }

    private async Task RequireWritableNamespaceAsync(string ns, CancellationToken cancellationToken)
    {
        var kv = await Store.GetAsync("/registry/namespaces/" + ns, cancellationToken)
            ?? throw ApiException.NotFound("namespaces", ns);
        var namespaceObject = ObjectCodec.Decode<V1Namespace>(kv);
        if (namespaceObject.Metadata.DeletionTimestamp is not null)
        {
            var error = ApiException.Forbidden(Kind.Plural, "", $"unable to create new content in namespace {ns} because it is being terminated", Kind.Group);
            error.Status.Message = $"{Kind.Plural} is forbidden: unable to create new content in namespace {ns} because it is being terminated";
            error.Status.Details.Causes = [new V1StatusCause { Reason = "NamespaceTerminating", Message = $"namespace {ns} is being terminated", Field = "metadata.namespace" }];
            throw error;
        }
    }

    [UnconditionalSuppressMessage("Trimming", "IL2090", Justification = RootedModels.Justification)]
    private static PropertyInfo? FindStatusProperty() => typeof(T).GetProperty("Status");

    /// <summary>Opaque continue tokens: the revision of the first page and the last key returned.</summary>
    private static class ContinueToken
    {
        public static string Encode(long revision, string lastKey) =>
            Convert.ToBase64String(ModelJson.NodeToUtf8Bytes(new JsonObject { ["v"] = "meta.k8s.io/v1", ["rv"] = revision, ["start"] = lastKey }));

        public static (long Revision, string StartAfter) Decode(string token, string prefix)
        {
            try
            {
                using var doc = JsonDocument.Parse(Convert.FromBase64String(token));
                long revision = doc.RootElement.GetProperty("rv").GetInt64();
                string start = doc.RootElement.GetProperty("start").GetString() ?? "";
                if (!start.StartsWith(prefix, StringComparison.Ordinal))
                {
                    throw ApiException.BadRequest("continue key is not valid: continue token does not belong to this collection");
                }

                return (revision, start);
            }
            catch (Exception e) when (e is FormatException or JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw ApiException.BadRequest("continue key is not valid: " + e.Message);
            }
        }
    }

    /// <summary>
    /// One page of a list: each stored object decoded straight from the store's row as the store reads it (no copy of
    /// its JSON), kept when the selectors match.
    /// </summary>
    private sealed class ListPage(ResourceStore<T> store, LabelSelector labels, FieldSelector fields, List<T> items) : IRangeVisitor
    {
        /// <summary>The last key read, where the next page starts after.</summary>
        public string? LastKey { get; private set; }

        /// <summary>How many keys were read, matched or not.</summary>
        public long Visited { get; private set; }

        public void Visit(in KeyValueRow row)
        {
            LastKey = row.KeyString();
            Visited++;
            var obj = ObjectCodec.Decode<T>(LastKey, row.Value, row.ModRevision);
            if (store.Matches(obj, labels, fields))
            {
                items.Add(obj);
            }
        }
    }
}
