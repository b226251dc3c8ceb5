using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Serialization;

namespace Switchboard.Controllers.Workloads;

/// <summary>
/// The ControllerRevisions of a StatefulSet or DaemonSet (upstream's controller history): each distinct pod template
/// is one revision, named <c>&lt;owner&gt;-&lt;hash&gt;</c>, holding the patch <c>{"spec":{"template":{…,"$patch":"replace"}}}</c>
/// that <c>kubectl rollout history</c> shows and <c>rollout undo</c> applies. Going back to an older template renumbers
/// its revision instead of making a twin; the oldest revisions no pod uses are pruned past revisionHistoryLimit.
/// </summary>
internal sealed class ControllerHistory(ControllerContext context)
{
    /// <summary>The label every revision carries with its hash.</summary>
    public const string HashLabel = "controller.kubernetes.io/hash";

    /// <summary>The label a pod carries naming the revision it was made from (the revision's name for StatefulSets, its hash for DaemonSets).</summary>
    public const string PodRevisionLabel = "controller-revision-hash";

    /// <summary>The revisions <paramref name="owner"/> controls, by revision number.</summary>
    public List<V1ControllerRevision> Of(IKubernetesObject<V1ObjectMeta> owner) =>
        [.. context.Informers.ControllerRevisions.Cache.ByIndex(SharedInformers.OwnerIndex, owner.Metadata.Uid)
            .Where(r => Objects.IsControlledBy(r, owner)).OrderBy(r => r.Revision)];

    /// <summary>The value of one label of <paramref name="obj"/>, or null.</summary>
    public static string? Label(IKubernetesObject<V1ObjectMeta> obj, string label) =>
        obj.Metadata.Labels?.TryGetValue(label, out string? value) == true ? value : null;

    /// <summary>The pod template a revision records.</summary>
    public static V1PodTemplateSpec Template(V1ControllerRevision revision)
    {
        var template = ModelJson.ToNode(revision.Data)?["spec"]?["template"]?.DeepClone().AsObject() ?? [];
        template.Remove("$patch");
        return ModelJson.FromNode<V1PodTemplateSpec>(template) ?? new V1PodTemplateSpec();
    }

    /// <summary>
    /// The revision of <paramref name="template"/> among <paramref name="revisions"/> (renumbered to the newest if it is
    /// an older one), or a new one created for it.
    /// </summary>
    public async Task<V1ControllerRevision> EnsureAsync(IKubernetesObject<V1ObjectMeta> owner, string apiVersion, string kind, V1PodTemplateSpec template, List<V1ControllerRevision> revisions, CancellationToken cancellationToken)
    {
        var data = Data(template);
        long newest = revisions.Count == 0 ? 0 : revisions.Max(r => r.Revision ?? 0);
        string ns = owner.Metadata.NamespaceProperty;
        var existing = revisions.LastOrDefault(r => ModelJson.SemanticallyEqual(ModelJson.ToNode(r.Data), data));
        if (existing is not null)
        {
            if (existing.Revision == newest)
            {
                return existing;
            }

            var patch = new JsonObject { ["revision"] = newest + 1, ["metadata"] = new JsonObject { ["resourceVersion"] = existing.Metadata.ResourceVersion } };
            return await context.Client.AppsV1.PatchNamespacedControllerRevisionAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), existing.Metadata.Name, ns, cancellationToken: cancellationToken);
        }

        string hash = PodTemplateHash.Of(template, collisionCount: null);
        var revision = new V1ControllerRevision
        {
            Metadata = new V1ObjectMeta
            {
                Name = owner.Metadata.Name + "-" + hash,
                NamespaceProperty = ns,
                Labels = new Dictionary<string, string>(template.Metadata?.Labels ?? new Dictionary<string, string>()) { [HashLabel] = hash },
                OwnerReferences = [Objects.ControllerReference(owner, apiVersion, kind)],
            },
            Data = data,
            Revision = newest + 1,
        };
        try
        {
            return await context.Client.AppsV1.CreateNamespacedControllerRevisionAsync(revision, ns, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            // Created by an earlier sync whose write the cache does not show yet: the same template gives the same name.
            var found = await context.Client.AppsV1.ReadNamespacedControllerRevisionAsync(revision.Metadata.Name, ns, cancellationToken: cancellationToken);
            if (Objects.IsControlledBy(found, owner) && ModelJson.SemanticallyEqual(ModelJson.ToNode(found.Data), data))
            {
                return found;
            }

            throw;
        }
    }

    /// <summary>Deletes the oldest revisions beyond <paramref name="limit"/> that are not in <paramref name="live"/> (names in use).</summary>
    public async Task PruneAsync(List<V1ControllerRevision> revisions, IReadOnlySet<string> live, int limit, CancellationToken cancellationToken)
    {
        var unused = revisions.Where(r => !live.Contains(r.Metadata.Name)).OrderBy(r => r.Revision).ToList();
        foreach (var revision in unused.Take(Math.Max(0, unused.Count - limit)))
        {
            await ApiCalls.IgnoreNotFoundAsync(() => context.Client.AppsV1.DeleteNamespacedControllerRevisionAsync(revision.Metadata.Name, revision.Metadata.NamespaceProperty, cancellationToken: cancellationToken));
        }
    }

    private static JsonObject Data(V1PodTemplateSpec template)
    {
        var node = ModelJson.ToNode(template)!.AsObject();
        node["$patch"] = "replace";
        return new JsonObject { ["spec"] = new JsonObject { ["template"] = node } };
    }
}
