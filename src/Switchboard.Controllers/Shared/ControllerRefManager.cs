using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.Kube.Selectors;

namespace Switchboard.Controllers.Shared;

/// <summary>
/// upstream's ControllerRefManager: an owner claims the objects its selector matches. Orphans it matches are adopted
/// (it becomes their controller), objects it controls but no longer matches are released (the reference goes),
/// objects another controller owns are left alone. An owner being deleted adopts and releases nothing, and a fresh
/// read makes sure the owner still exists before the first adoption.
/// </summary>
internal static class ControllerRefManager
{
    /// <summary>
    /// The objects <paramref name="owner"/> controls once the claim is done. <paramref name="patch"/> writes a JSON
    /// merge patch (with a resourceVersion precondition) to a child and returns the result.
    /// </summary>
    public static async Task<List<T>> ClaimAsync<T>(
        IKubernetesObject<V1ObjectMeta> owner,
        string apiVersion,
        string kind,
        V1LabelSelector? selector,
        IEnumerable<T> candidates,
        Func<CancellationToken, Task<IKubernetesObject<V1ObjectMeta>>> readOwner,
        Func<T, JsonObject, CancellationToken, Task<T>> patch,
        CancellationToken cancellationToken)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        var claimed = new List<T>();
        bool ownerDeleting = owner.Metadata.DeletionTimestamp is not null;
        bool? canAdopt = null;
        foreach (var child in candidates)
        {
            var controller = Objects.ControllerOf(child);
            bool matches = LabelSelector.MatchesNonEmpty(selector, child.Metadata.Labels);
            if (controller is not null)
            {
                if (controller.Uid != owner.Metadata.Uid)
                {
                    continue;
                }

                if (matches || ownerDeleting)
                {
                    claimed.Add(child);
                }
                else if (child.Metadata.DeletionTimestamp is null)
                {
                    var remaining = (child.Metadata.OwnerReferences ?? []).Where(r => r.Uid != owner.Metadata.Uid).ToList();
                    await ApiCalls.IgnoreNotFoundAsync(() => patch(child, Json.MetadataListPatch(child, "ownerReferences", remaining), cancellationToken));
                }

                continue;
            }

            if (!matches || ownerDeleting || child.Metadata.DeletionTimestamp is not null)
            {
                continue;
            }

            canAdopt ??= await StillExistsAsync(owner, readOwner, cancellationToken);
            if (canAdopt != true)
            {
                continue;
            }

            var references = (child.Metadata.OwnerReferences ?? []).Append(Objects.ControllerReference(owner, apiVersion, kind)).ToList();
            if (await ApiCalls.IgnoreNotFoundAsync(() => patch(child, Json.MetadataListPatch(child, "ownerReferences", references), cancellationToken)) is { } adopted)
            {
                claimed.Add(adopted);
            }
        }

        return claimed;
    }

    /// <summary>upstream RecheckDeletionTimestamp: the owner as the server has it now is the same one, not being deleted.</summary>
    private static async Task<bool> StillExistsAsync(IKubernetesObject<V1ObjectMeta> owner, Func<CancellationToken, Task<IKubernetesObject<V1ObjectMeta>>> readOwner, CancellationToken cancellationToken)
    {
        try
        {
            var fresh = await readOwner(cancellationToken);
            return fresh.Metadata.Uid == owner.Metadata.Uid && fresh.Metadata.DeletionTimestamp is null;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }
}
