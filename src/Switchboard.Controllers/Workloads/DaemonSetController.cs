using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Switchboard.Controllers.Nodes;
using Switchboard.Controllers.Scheduling;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Informers;
using Switchboard.Kube.Selectors;
using Switchboard.Kube.Serialization;

namespace Switchboard.Controllers.Workloads;

/// <summary>
/// upstream's DaemonSet controller: one pod on every node the template's nodeSelector, node affinity and tolerations
/// (plus the tolerations every daemon pod gets, cordon's among them) allow. As upstream since 1.12, it does not pick the
/// node itself: each pod gets a required node affinity for its node's name (matchFields metadata.name) and the
/// scheduler binds it. Surplus pods (a node that no longer fits, a second pod on a node) are deleted, failed ones
/// replaced. RollingUpdate replaces old pods at most maxUnavailable nodes at a time, or with maxSurge starts the new
/// pod beside the old one and deletes the old once the new is available.
/// </summary>
internal sealed class DaemonSetController : QueueController
{
    public const string Component = "daemonset-controller";
    private const string TemplateGenerationLabel = "pod-template-generation";

    private static readonly V1Toleration[] DaemonTolerations =
    [
        new() { Key = NodeLifecycleController.NotReadyTaint, OperatorProperty = "Exists", Effect = "NoExecute" },
        new() { Key = NodeLifecycleController.UnreachableTaint, OperatorProperty = "Exists", Effect = "NoExecute" },
        new() { Key = "node.kubernetes.io/disk-pressure", OperatorProperty = "Exists", Effect = "NoSchedule" },
        new() { Key = "node.kubernetes.io/memory-pressure", OperatorProperty = "Exists", Effect = "NoSchedule" },
        new() { Key = "node.kubernetes.io/pid-pressure", OperatorProperty = "Exists", Effect = "NoSchedule" },
        new() { Key = Tolerations.Unschedulable, OperatorProperty = "Exists", Effect = "NoSchedule" },
    ];

    private static readonly V1Toleration NetworkUnavailable = new() { Key = "node.kubernetes.io/network-unavailable", OperatorProperty = "Exists", Effect = "NoSchedule" };

    private readonly ControllerHistory _history;
    private readonly Expectations _expectations;

    public DaemonSetController(ControllerContext context)
        : base(context, "daemonset")
    {
        _history = new ControllerHistory(context);
        _expectations = new Expectations(context.Time);
        var informers = context.Informers;
        informers.DaemonSets.AddHandler(d => Queue.Add(ObjectKey.Of(d)), (_, d) => Queue.Add(ObjectKey.Of(d)), d => Queue.Add(ObjectKey.Of(d)));
        informers.Pods.AddHandler(EnqueueOwner, (_, pod) => EnqueueOwner(pod), EnqueueOwner);
        informers.Nodes.AddHandler(_ => EnqueueAll(), (old, node) =>
        {
            // Heartbeats change only status; a node's labels, taints and cordon decide where daemon pods go.
            if (!ModelJson.SameContent(old.Metadata.Labels, node.Metadata.Labels) || !ModelJson.SameContent(old.Spec, node.Spec))
            {
                EnqueueAll();
            }
        }, _ => EnqueueAll());
    }

    protected override async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        var ds = Context.Informers.DaemonSets.Cache.Get(key);
        if (ds is null)
        {
            _expectations.Forget(key);
            return;
        }

        if (ds.Metadata.DeletionTimestamp is not null)
        {
            return;
        }

        var pods = await PodClaims.ClaimAsync(
            Context, ds, "apps/v1", "DaemonSet", ds.Spec.Selector,
            async ct => (IKubernetesObject<V1ObjectMeta>)await Context.Client.AppsV1.ReadNamespacedDaemonSetAsync(ds.Metadata.Name, ds.Metadata.NamespaceProperty, cancellationToken: ct),
            cancellationToken);
        var revisions = _history.Of(ds);
        var update = await _history.EnsureAsync(ds, "apps/v1", "DaemonSet", ds.Spec.Template, revisions, cancellationToken);
        revisions = [.. revisions.Where(r => r.Metadata.Name != update.Metadata.Name), update];
        string hash = update.Metadata.Labels?.TryGetValue(ControllerHistory.HashLabel, out string? h) == true ? h : "";

        var nodes = Context.Informers.Nodes.Cache.List().OrderBy(n => n.Metadata.Name, StringComparer.Ordinal).ToList();
        var byNode = pods.Where(p => !Objects.IsTerminating(p)).GroupBy(NodeOf).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var (pendingCreates, _) = _expectations.Pending(key, name => Context.Informers.Pods.Cache.Get(ds.Metadata.NamespaceProperty, name) is not null, _ => false);
        bool waiting = pendingCreates.Count > 0;
        var now = Context.Time.GetUtcNow();
        int minReady = ds.Spec.MinReadySeconds ?? 0;
        var toCreate = new List<string>();
        var toDelete = new List<V1Pod>();
        var desiredNodes = nodes.Where(n => ShouldRun(ds, n)).ToList();
        foreach (var node in nodes)
        {
            var onNode = byNode.GetValueOrDefault(node.Metadata.Name) ?? [];
            if (!desiredNodes.Contains(node))
            {
                toDelete.AddRange(onNode);
                continue;
            }

            var failed = onNode.Where(Objects.IsTerminal).ToList();
            toDelete.AddRange(failed);
            var running = onNode.Except(failed).ToList();
            if (running.Count == 0)
            {
                toCreate.Add(node.Metadata.Name);
            }

            // One daemon pod per node of each revision (an old and a new one only while a rolling update replaces it): the oldest stays.
            foreach (var sameRevision in running.GroupBy(p => ControllerHistory.Label(p, ControllerHistory.PodRevisionLabel) == hash))
            {
                toDelete.AddRange(sameRevision.OrderBy(p => p.Metadata.CreationTimestamp).Skip(1));
            }
        }

        if (ds.Spec.UpdateStrategy?.Type == "RollingUpdate")
        {
            RollingUpdate(ds, desiredNodes, byNode, hash, now, toCreate, toDelete);
        }

        var nodeNames = nodes.Select(n => n.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        toDelete.AddRange(byNode.Where(e => !nodeNames.Contains(e.Key)).SelectMany(e => e.Value)); // meant for nodes that are gone

        if (!waiting)
        {
            await Task.WhenAll(toCreate.Distinct().Select(node => CreatePodAsync(key, ds, node, hash, cancellationToken)));
        }

        await Task.WhenAll(toDelete.DistinctBy(p => p.Metadata.Uid).Select(p => DeletePodAsync(ds, p, cancellationToken)));

        var live = pods.Select(p => ControllerHistory.Label(p, ControllerHistory.PodRevisionLabel)).OfType<string>()
            .Select(podHash => revisions.FirstOrDefault(r => ControllerHistory.Label(r, ControllerHistory.HashLabel) == podHash)?.Metadata.Name)
            .OfType<string>().Append(update.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        await _history.PruneAsync(revisions, live, ds.Spec.RevisionHistoryLimit ?? 10, cancellationToken);
        await UpdateStatusAsync(ds, desiredNodes, byNode, hash, now, minReady, cancellationToken);
    }

    /// <summary>Which old pods go now and which nodes get their new pod (upstream's rollingUpdate).</summary>
    private static void RollingUpdate(V1DaemonSet ds, List<V1Node> desiredNodes, Dictionary<string, List<V1Pod>> byNode, string hash, DateTimeOffset now, List<string> toCreate, List<V1Pod> toDelete)
    {
        int desired = desiredNodes.Count;
        var rolling = ds.Spec.UpdateStrategy.RollingUpdate;
        int maxSurge = Resolve(rolling?.MaxSurge, desired);
        int maxUnavailable = Resolve(rolling?.MaxUnavailable, desired);
        if (maxSurge == 0 && maxUnavailable == 0)
        {
            maxUnavailable = 1;
        }

        int minReady = ds.Spec.MinReadySeconds ?? 0;
        bool Available(V1Pod p) => !Objects.IsTerminal(p) && Objects.IsAvailable(p, minReady, now);
        bool IsNew(V1Pod p) => ControllerHistory.Label(p, ControllerHistory.PodRevisionLabel) == hash;

        var olds = new List<(string Node, V1Pod Old, V1Pod? New)>();
        int unavailable = 0;
        foreach (var node in desiredNodes)
        {
            var onNode = (byNode.GetValueOrDefault(node.Metadata.Name) ?? []).Where(p => !Objects.IsTerminal(p)).ToList();
            if (!onNode.Any(Available))
            {
                unavailable++;
            }

            var newPod = onNode.FirstOrDefault(IsNew);
            if (onNode.FirstOrDefault(p => !IsNew(p)) is { } old)
            {
                olds.Add((node.Metadata.Name, old, newPod));
            }
        }

        if (maxSurge == 0)
        {
            // Unavailable old pods go first and cost nothing; available ones only within the budget.
            foreach (var (_, old, _) in olds.Where(o => !Available(o.Old)))
            {
                toDelete.Add(old);
            }

            int budget = maxUnavailable - unavailable;
            foreach (var (_, old, _) in olds.Where(o => Available(o.Old)))
            {
                if (budget-- <= 0)
                {
                    break;
                }

                toDelete.Add(old);
            }

            return;
        }

        int surging = olds.Count(o => o.New is not null && !Available(o.New));
        foreach (var (node, old, newPod) in olds)
        {
            if (newPod is not null)
            {
                if (Available(newPod))
                {
                    toDelete.Add(old);
                }
            }
            else if (!Available(old))
            {
                // Nothing to keep serving on this node: replace at once.
                toDelete.Add(old);
            }
            else if (surging < maxSurge)
            {
                surging++;
                toCreate.Add(node);
            }
        }
    }

    private static int Resolve(IntOrString? value, int total)
    {
        string text = value?.Value ?? "0";
        return text.EndsWith('%')
            ? (int)Math.Ceiling(double.Parse(text[..^1], CultureInfo.InvariantCulture) * total / 100.0)
            : int.Parse(text, CultureInfo.InvariantCulture);
    }

    /// <summary>Whether the daemon pod belongs on <paramref name="node"/>: its selector, affinity and tolerations allow it.</summary>
    private static bool ShouldRun(V1DaemonSet ds, V1Node node)
    {
        var probe = new V1Pod { Metadata = new V1ObjectMeta(), Spec = ModelJson.Clone(ds.Spec.Template.Spec) };
        probe.Spec.Tolerations = WithDaemonTolerations(probe.Spec);
        return NodeAffinity.Matches(probe, node) && Tolerations.Misfit(probe.Spec, node) is null;
    }

    private static List<V1Toleration> WithDaemonTolerations(V1PodSpec spec)
    {
        var tolerations = new List<V1Toleration>(spec.Tolerations ?? []);
        foreach (var toleration in spec.HostNetwork == true ? DaemonTolerations.Append(NetworkUnavailable) : DaemonTolerations)
        {
            if (!tolerations.Any(t => t.Key == toleration.Key && t.Effect == toleration.Effect))
            {
                tolerations.Add(toleration);
            }
        }

        return tolerations;
    }

    private async Task CreatePodAsync(string key, V1DaemonSet ds, string node, string hash, CancellationToken cancellationToken)
    {
        var template = ds.Spec.Template;
        var spec = ModelJson.Clone(template.Spec);
        spec.Tolerations = WithDaemonTolerations(spec);
        spec.Affinity ??= new V1Affinity();
        spec.Affinity.NodeAffinity ??= new V1NodeAffinity();
        spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
        {
            NodeSelectorTerms = [new V1NodeSelectorTerm { MatchFields = [new V1NodeSelectorRequirement { Key = "metadata.name", OperatorProperty = "In", Values = [node] }] }],
        };
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                GenerateName = ds.Metadata.Name + "-",
                Labels = new Dictionary<string, string>(template.Metadata?.Labels ?? new Dictionary<string, string>())
                {
                    [ControllerHistory.PodRevisionLabel] = hash,
                    [TemplateGenerationLabel] = (ds.Metadata.Generation ?? 1).ToString(CultureInfo.InvariantCulture),
                },
                Annotations = template.Metadata?.Annotations is { } annotations ? new Dictionary<string, string>(annotations) : null,
                OwnerReferences = [Objects.ControllerReference(ds, "apps/v1", "DaemonSet")],
            },
            Spec = spec,
        };
        try
        {
            var created = await Context.Client.CoreV1.CreateNamespacedPodAsync(pod, ds.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            _expectations.Created(key, created.Metadata.Name);
            Context.Events.Normal(ds, Component, "SuccessfulCreate", $"Created pod: {created.Metadata.Name}");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Context.Events.Warning(ds, Component, "FailedCreate", $"Error creating: {e.Message}");
            throw;
        }
    }

    private async Task DeletePodAsync(V1DaemonSet ds, V1Pod pod, CancellationToken cancellationToken)
    {
        try
        {
            await Context.Client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty,
                new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = pod.Metadata.Uid } }, cancellationToken: cancellationToken);
            Context.Events.Normal(ds, Component, "SuccessfulDelete", $"Deleted pod: {pod.Metadata.Name}");
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.Conflict)
        {
            // Already gone.
        }
    }

    private async Task UpdateStatusAsync(V1DaemonSet ds, List<V1Node> desiredNodes, Dictionary<string, List<V1Pod>> byNode, string hash, DateTimeOffset now, int minReady, CancellationToken cancellationToken)
    {
        int scheduled = 0, ready = 0, available = 0, updated = 0;
        foreach (var node in desiredNodes)
        {
            var onNode = (byNode.GetValueOrDefault(node.Metadata.Name) ?? []).Where(p => !Objects.IsTerminal(p)).ToList();
            if (onNode.Count == 0)
            {
                continue;
            }

            scheduled++;
            ready += onNode.Any(Objects.IsReady) ? 1 : 0;
            available += onNode.Any(p => Objects.IsAvailable(p, minReady, now)) ? 1 : 0;
            updated += onNode.Any(p => ControllerHistory.Label(p, ControllerHistory.PodRevisionLabel) == hash) ? 1 : 0;
        }

        var desiredNames = desiredNodes.Select(n => n.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        var status = new V1DaemonSetStatus
        {
            DesiredNumberScheduled = desiredNodes.Count,
            CurrentNumberScheduled = scheduled,
            NumberMisscheduled = byNode.Count(e => e.Key.Length > 0 && !desiredNames.Contains(e.Key) && e.Value.Any(p => !Objects.IsTerminal(p))),
            NumberReady = ready,
            NumberAvailable = available,
            NumberUnavailable = desiredNodes.Count - available,
            UpdatedNumberScheduled = updated,
            ObservedGeneration = ds.Metadata.Generation,
            CollisionCount = ds.Status?.CollisionCount,
        };
        if (minReady > 0 && ready != available)
        {
            Queue.AddAfter(ObjectKey.Of(ds), TimeSpan.FromSeconds(1));
        }

        if (ModelJson.SemanticallyEqual(status, ds.Status))
        {
            return;
        }

        var patch = new JsonObject { ["status"] = Json.Node(status) };
        await ApiCalls.IgnoreNotFoundAsync(() => Context.Client.AppsV1.PatchNamespacedDaemonSetStatusAsync(
            new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), ds.Metadata.Name, ds.Metadata.NamespaceProperty, cancellationToken: cancellationToken));
    }

    /// <summary>The node a daemon pod runs on, or is meant for by its node-name affinity before the scheduler binds it.</summary>
    private static string NodeOf(V1Pod pod)
    {
        if (!string.IsNullOrEmpty(pod.Spec?.NodeName))
        {
            return pod.Spec.NodeName;
        }

        var terms = pod.Spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution?.NodeSelectorTerms ?? [];
        return terms.SelectMany(t => t.MatchFields ?? []).FirstOrDefault(f => f.Key == "metadata.name" && f.OperatorProperty == "In" && f.Values?.Count == 1)?.Values[0] ?? "";
    }

    private void EnqueueOwner(V1Pod pod)
    {
        if (Objects.ControllerOf(pod) is { } owner)
        {
            if (owner.Kind == "DaemonSet")
            {
                Queue.Add(ObjectKey.Of(pod.Metadata.NamespaceProperty, owner.Name));
            }

            return;
        }

        foreach (var ds in Context.Informers.DaemonSets.Cache.InNamespace(pod.Metadata.NamespaceProperty))
        {
            if (LabelSelector.MatchesNonEmpty(ds.Spec?.Selector, pod.Metadata.Labels))
            {
                Queue.Add(ObjectKey.Of(ds));
            }
        }
    }

    private void EnqueueAll()
    {
        foreach (var ds in Context.Informers.DaemonSets.Cache.List())
        {
            Queue.Add(ObjectKey.Of(ds));
        }
    }
}
