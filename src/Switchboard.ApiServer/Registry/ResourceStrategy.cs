using k8s;
using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Tables;
using Switchboard.ApiServer.Validation;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Registry;

/// <summary>
/// What differs between kinds: defaults, validation, table columns, selectable fields and side effects such as
/// ClusterIP allocation. The generic machinery (<see cref="ResourceStore{T}"/>) does everything else.
/// </summary>
internal class ResourceStrategy<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private static readonly IReadOnlyList<TableColumn<T>> NameAndAge = [Columns.Name<T>(), Columns.Age<T>()];

    /// <summary>The format the object's name must have.</summary>
    public virtual NameRule NameRule => NameRule.Subdomain;

    /// <summary>Server-side table columns, in kubectl's order.</summary>
    public virtual IReadOnlyList<TableColumn<T>> TableColumns => NameAndAge;

    /// <summary>Fields usable in a fieldSelector besides metadata.name and metadata.namespace.</summary>
    public virtual IReadOnlyDictionary<string, Func<T, string?>> SelectableFields { get; } = new Dictionary<string, Func<T, string?>>();

    /// <summary>Fills the defaults of the versioned API (SetDefaults_*); runs on every write.</summary>
    public virtual void Default(T obj)
    {
    }

    /// <summary>Kind-specific checks of a new object (metadata is checked by the machinery).</summary>
    public virtual IEnumerable<FieldError> Validate(T obj) => [];

    /// <summary>Kind-specific checks of an update (not of a /binding); by default the same as for a new object.</summary>
    public virtual IEnumerable<FieldError> ValidateUpdate(T obj, T old) => Validate(obj);

    /// <summary>Kind-specific checks of an update through a subresource (status, finalize, a pod's ephemeralcontainers).</summary>
    public virtual IEnumerable<FieldError> ValidateSubresourceUpdate(T obj, T old, string subresource) => ValidateUpdate(obj, old);

    /// <summary>
    /// kube-apiserver's mutating admission of a create: after defaults and the writer's managedFields (what admission adds
    /// is nobody's field, as upstream's), before validation; may refuse with an <see cref="ApiException"/>.
    /// </summary>
    public virtual Task AdmitCreateAsync(T obj, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Last changes before a create is stored (e.g. initial status); may allocate resources.</summary>
    public virtual Task PrepareCreateAsync(T obj, bool dryRun, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Last changes before an update is stored; may allocate or carry over allocated values.</summary>
    public virtual Task PrepareUpdateAsync(T obj, T old, bool dryRun, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Stores a new object at <paramref name="key"/>; fails with <see cref="StorageError.KeyExists"/>. A kind whose
    /// allocation must commit with the object (a Service's ClusterIP) writes both in one transaction here.
    /// </summary>
    public virtual Task<KeyValue> StoreCreateAsync(IKeyValueStore store, string key, T obj, CancellationToken cancellationToken) =>
        store.CreateAsync(key, ObjectCodec.Encode(obj), null, cancellationToken);

    /// <summary>
    /// Removes the stored object if it is at <paramref name="modRevision"/>; a kind whose allocation must go with the
    /// object releases it in the same transaction here (and not again in <see cref="ReleaseAsync"/>).
    /// </summary>
    public virtual Task<DeleteResult> StoreDeleteAsync(IKeyValueStore store, string key, T obj, long modRevision, CancellationToken cancellationToken) =>
        store.DeleteAsync(key, modRevision, cancellationToken);

    /// <summary>Undoes <see cref="PrepareCreateAsync"/>/<see cref="PrepareUpdateAsync"/> when the write failed.</summary>
    public virtual Task RollbackAsync(T obj, T? old, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Releases what the old object held and the stored update no longer does.</summary>
    public virtual Task AfterUpdateAsync(T obj, T old, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Releases what the object held once it is gone from the store.</summary>
    public virtual Task ReleaseAsync(T obj, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Whether a DELETE only marks the object (deletionTimestamp) instead of removing it, beyond metadata.finalizers:
    /// namespaces (spec.finalizers) and pods bound to a node with a grace period.
    /// </summary>
    public virtual bool DeletesGracefully(T obj, long? gracePeriodSeconds) => false;

    /// <summary>What a graceful DELETE changes besides deletionTimestamp (namespace phase Terminating).</summary>
    public virtual void MarkDeleting(T obj)
    {
    }

    /// <summary>Whether a marked object may now be removed (its kind-specific finalizers are done).</summary>
    public virtual bool FinalizersDone(T obj) => obj.Metadata.Finalizers is null || obj.Metadata.Finalizers.Count == 0;
}
