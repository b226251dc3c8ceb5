using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Selectors;
using Switchboard.Kube.Selectors;

namespace Switchboard.ApiServer.Authorization;

/// <summary>
/// The RBAC objects as the authorizer reads them: listed at start, then kept current by watches of the four
/// collections, each change making a new <see cref="RbacPolicy"/> (which drops the rules compiled for the old one),
/// as kube-apiserver's RBAC authorizer reads its informers' caches.
/// </summary>
internal sealed partial class RbacCache(
    ResourceStore<V1ClusterRole> clusterRoles, ResourceStore<V1Role> roles, ResourceStore<V1ClusterRoleBinding> clusterBindings, ResourceStore<V1RoleBinding> bindings, ILogger logger)
{
    private readonly ConcurrentDictionary<string, V1ClusterRole> _clusterRoles = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, V1Role> _roles = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, V1ClusterRoleBinding> _clusterBindings = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, V1RoleBinding> _bindings = new(StringComparer.Ordinal);
    private readonly Lock _rebuilding = new();
    private volatile RbacPolicy _policy = RbacPolicy.Empty;

    public RbacPolicy Policy => _policy;

    /// <summary>Lists the four collections (the policy is complete when this returns) and keeps watching them until <paramref name="stopping"/>.</summary>
    public async Task StartAsync(CancellationToken stopping)
    {
        await Task.WhenAll(
            FollowAsync(clusterRoles, _clusterRoles, stopping),
            FollowAsync(roles, _roles, stopping),
            FollowAsync(clusterBindings, _clusterBindings, stopping),
            FollowAsync(bindings, _bindings, stopping));
        Rebuild();
    }

    /// <summary>Fills <paramref name="objects"/> from a list, then follows the watch in the background, resuming it when the store drops it.</summary>
    private async Task FollowAsync<T>(ResourceStore<T> store, ConcurrentDictionary<string, T> objects, CancellationToken stopping)
        where T : class, IKubernetesObject<V1ObjectMeta>, new()
    {
        var watch = await store.WatchAsync(null, LabelSelector.Everything, FieldSelector.Everything, null, progress: false, stopping);
        Reset(objects, watch.Initial);
        _ = Task.Run(() => WatchLoopAsync(store, objects, watch, stopping), CancellationToken.None);
    }

    private async Task WatchLoopAsync<T>(ResourceStore<T> store, ConcurrentDictionary<string, T> objects, ResourceWatch<T>? watch, CancellationToken stopping)
        where T : class, IKubernetesObject<V1ObjectMeta>, new()
    {
        // Null: list again (the history the watch stood at is compacted).
        long? revision = watch!.Revision;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                if (watch is null)
                {
                    watch = await store.WatchAsync(null, LabelSelector.Everything, FieldSelector.Everything, revision, progress: false, stopping);
                    if (revision is null)
                    {
                        Reset(objects, watch.Initial);
                        Rebuild();
                    }

                    revision = watch.Revision;
                }

                await foreach (var change in watch.Changes.WithCancellation(stopping))
                {
                    string key = Key(change.Object);
                    if (change.Type == WatchEventType.Deleted)
                    {
                        objects.TryRemove(key, out _);
                    }
                    else
                    {
                        objects[key] = change.Object;
                    }

                    revision = Math.Max(revision ?? 0, long.Parse(change.Object.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture));
                    Rebuild();
                }

                // The store dropped the watch: resume after the last change seen.
                watch = null;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (ApiException e) when (e.Code == 410)
            {
                watch = null;
                revision = null;
            }
            catch (Exception e) when (e is ApiException or IOException)
            {
                LogWatchFailed(logger, store.Kind.Plural, e);
                watch = null;
                await Task.Delay(TimeSpan.FromSeconds(1), stopping).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private static void Reset<T>(ConcurrentDictionary<string, T> objects, IEnumerable<T> items)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        objects.Clear();
        foreach (var item in items)
        {
            objects[Key(item)] = item;
        }
    }

    private static string Key<T>(T obj)
        where T : IKubernetesObject<V1ObjectMeta> => obj.Metadata.NamespaceProperty + "/" + obj.Metadata.Name;

    private void Rebuild()
    {
        lock (_rebuilding)
        {
            _policy = new RbacPolicy(_clusterRoles.Values, _roles.Values, _clusterBindings.Values, _bindings.Values);
        }
    }

    [LoggerMessage(EventId = 1020, Level = LogLevel.Warning, Message = "watching {Resource} for RBAC failed; watching again")]
    private static partial void LogWatchFailed(ILogger logger, string resource, Exception exception);
}
