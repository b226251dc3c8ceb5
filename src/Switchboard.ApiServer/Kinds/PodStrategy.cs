using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;
using Switchboard.Kube.Pods;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.Kinds;

/// <summary>
/// Pods: PodSpec defaults, the default not-ready/unreachable tolerations and phase Pending (and SchedulingGated while
/// gated) on create, the service account's admission (<see cref="ServiceAccountAdmission"/>), a spec that updates barely
/// change, graceful deletion once bound to a node.
/// </summary>
internal sealed class PodStrategy(long defaultTolerationSeconds, ServiceAccountAdmission? serviceAccounts) : ResourceStrategy<V1Pod>
{
    /// <summary>The taints the node lifecycle controller puts on a node that is not ready or stopped reporting.</summary>
    private static readonly string[] NodeProblemTaints = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"];

    private const string SchedulingGated = "SchedulingGated";

    private static readonly IReadOnlyList<TableColumn<V1Pod>> Table =
    [
        Columns.Name<V1Pod>(),
        new("Ready", "string", 0, (p, _) => $"{p.Status?.ContainerStatuses?.Count(c => c.Ready) ?? 0}/{p.Spec?.Containers?.Count ?? 0}", "", "The aggregate readiness state of this pod for accepting traffic."),
        new("Status", "string", 0, (p, _) => Phase(p), "", "The aggregate status of the containers in this pod."),
        new("Restarts", "string", 0, (p, _) => ((p.Status?.ContainerStatuses?.Sum(c => c.RestartCount) ?? 0) + (p.Status?.InitContainerStatuses?.Sum(c => c.RestartCount) ?? 0))
            .ToString(System.Globalization.CultureInfo.InvariantCulture), "", "The number of times the containers in this pod have been restarted."),
        Columns.Age<V1Pod>(),
        new("IP", "string", 1, (p, _) => Columns.OrNone(p.Status?.PodIP), "", "The IP address assigned to the pod"),
        new("Node", "string", 1, (p, _) => Columns.OrNone(p.Spec?.NodeName), "", "The name of the node assigned to the pod"),
        new("Nominated Node", "string", 1, (p, _) => Columns.OrNone(p.Status?.NominatedNodeName), "", "The name of the node nominated by the scheduler"),
        new("Readiness Gates", "string", 1, (p, _) => ReadinessGates(p), "", "The readiness gates of the pod"),
    ];

    public override IReadOnlyList<TableColumn<V1Pod>> TableColumns => Table;

    public override IReadOnlyDictionary<string, Func<V1Pod, string?>> SelectableFields { get; } = new Dictionary<string, Func<V1Pod, string?>>
    {
        ["spec.nodeName"] = p => p.Spec?.NodeName,
        ["spec.restartPolicy"] = p => p.Spec?.RestartPolicy,
        ["spec.schedulerName"] = p => p.Spec?.SchedulerName,
        ["spec.serviceAccountName"] = p => p.Spec?.ServiceAccountName,
        ["spec.hostNetwork"] = p => p.Spec?.HostNetwork == true ? "true" : "false",
        ["status.phase"] = p => p.Status?.Phase,
        ["status.podIP"] = p => p.Status?.PodIP,
        ["status.nominatedNodeName"] = p => p.Status?.NominatedNodeName,
    };

    public override void Default(V1Pod obj)
    {
        obj.Spec ??= new V1PodSpec();
        DefaultSpec(obj.Spec);
    }

    public override IEnumerable<FieldError> Validate(V1Pod obj) => PodSpecRules.Validate(obj.Spec, "spec");

    /// <summary>
    /// The spec keeps all but what <see cref="PodUpdateRules"/> lets change. Reached by updates of the main resource and
    /// of /status, whose spec is the stored one; pods/binding, which sets spec.nodeName, does not come here.
    /// </summary>
    public override IEnumerable<FieldError> ValidateUpdate(V1Pod obj, V1Pod old)
    {
        var errors = Validate(obj).ToList();
        if (!ModelJson.SameContent(obj.Spec, old.Spec))
        {
            // Upstream compares with the stored pod as decoded, defaults applied: a default added since it was stored
            // is no change by the client.
            var stored = ModelJson.Clone(old.Spec ?? new V1PodSpec());
            DefaultSpec(stored);
            errors.AddRange(PodUpdateRules.Validate(obj.Spec, stored));
        }

        return errors;
    }

    /// <summary>pods/ephemeralcontainers: the pod as it is, with ephemeral containers only added (EphemeralContainerRules).</summary>
    public override IEnumerable<FieldError> ValidateSubresourceUpdate(V1Pod obj, V1Pod old, string subresource) =>
        subresource == "ephemeralcontainers" ? EphemeralContainerRules.Validate(obj.Spec, old.Spec) : ValidateUpdate(obj, old);

    public override Task AdmitCreateAsync(V1Pod obj, CancellationToken cancellationToken) => serviceAccounts?.AdmitAsync(obj, cancellationToken) ?? Task.CompletedTask;

    /// <summary>
    /// A new pod starts Pending; one held by scheduling gates also says so in PodScheduled=False, reason
    /// SchedulingGated, as kube-apiserver's PrepareForCreate does (kube-scheduler writes nothing for a gated pod).
    /// </summary>
    public override Task PrepareCreateAsync(V1Pod obj, bool dryRun, CancellationToken cancellationToken)
    {
        AddDefaultTolerations(obj);
        obj.Status = new V1PodStatus { Phase = "Pending", QosClass = obj.Spec is null ? PodQos.BestEffort : PodQos.Of(obj.Spec) };
        if (obj.Spec?.SchedulingGates is { Count: > 0 })
        {
            obj.Status.Conditions =
            [
                new V1PodCondition
                {
                    Type = "PodScheduled",
                    Status = "False",
                    Reason = SchedulingGated,
                    Message = "Scheduling is blocked due to non-empty scheduling gates",
                    LastTransitionTime = obj.Metadata.CreationTimestamp,
                },
            ];
        }

        return Task.CompletedTask;
    }

    /// <summary>A pod on a node waits for its kubelet to confirm the stop; an unscheduled one goes at once.</summary>
    public override bool DeletesGracefully(V1Pod obj, long? gracePeriodSeconds) =>
        !string.IsNullOrEmpty(obj.Spec?.NodeName) && gracePeriodSeconds != 0 && obj.Status?.Phase is not ("Succeeded" or "Failed");

    /// <summary>
    /// kube-apiserver's DefaultTolerationSeconds admission: a pod that tolerates neither problem taint for NoExecute gets
    /// a toleration of it for <c>defaultTolerationSeconds</c>, so its node's failure evicts it after that long.
    /// </summary>
    private void AddDefaultTolerations(V1Pod obj)
    {
        var tolerations = obj.Spec?.Tolerations ?? [];
        foreach (string key in NodeProblemTaints)
        {
            bool tolerated = tolerations.Any(t => (string.IsNullOrEmpty(t.Effect) || t.Effect == "NoExecute")
                && (string.IsNullOrEmpty(t.Key) ? t.OperatorProperty == "Exists" : t.Key == key));
            if (!tolerated)
            {
                obj.Spec!.Tolerations ??= [];
                obj.Spec.Tolerations.Add(new V1Toleration { Key = key, OperatorProperty = "Exists", Effect = "NoExecute", TolerationSeconds = defaultTolerationSeconds });
            }
        }
    }

    private static void DefaultSpec(V1PodSpec spec)
    {
        PodSpecRules.Default(spec);
        spec.EnableServiceLinks ??= true;
        spec.Priority ??= 0;
    }

    private static string Phase(V1Pod p)
    {
        string reason = p.Status?.Reason ?? p.Status?.Phase ?? "Unknown";
        if (p.Status?.Conditions?.Any(c => c is { Type: "PodScheduled", Reason: SchedulingGated }) == true)
        {
            reason = SchedulingGated;
        }

        // kubectl's printPod: the first init container not yet succeeded names the status (Init:1/2, Init:CrashLoopBackOff, Init:Error).
        bool initializing = false;
        var inits = p.Status?.InitContainerStatuses ?? [];
        for (int i = 0; i < inits.Count && !initializing; i++)
        {
            var c = inits[i];
            initializing = c.State?.Terminated is not { ExitCode: 0 };
            reason = c.State?.Terminated is { } failed ? "Init:" + (failed.Reason ?? (failed.Signal is > 0 ? $"Signal:{failed.Signal}" : $"ExitCode:{failed.ExitCode}"))
                : c.State?.Waiting?.Reason is { Length: > 0 } waiting && waiting != "PodInitializing" ? "Init:" + waiting
                : initializing ? $"Init:{i}/{p.Spec?.InitContainers?.Count ?? inits.Count}"
                : reason;
        }

        bool initialized = p.Status?.Conditions?.Any(c => c is { Type: "Initialized", Status: "True" }) == true;
        foreach (var c in !initializing || initialized ? p.Status?.ContainerStatuses ?? [] : [])
        {
            if (c.State?.Waiting?.Reason is { Length: > 0 } waiting)
            {
                reason = waiting;
            }
            else if (c.State?.Terminated is { } terminated)
            {
                reason = terminated.Reason ?? (terminated.Signal is > 0 ? $"Signal:{terminated.Signal}" : $"ExitCode:{terminated.ExitCode}");
            }
        }

        if (p.Metadata.DeletionTimestamp is not null)
        {
            reason = p.Status?.Reason == "NodeLost" ? "Unknown" : "Terminating";
        }

        return reason;
    }

    private static string ReadinessGates(V1Pod p)
    {
        var gates = p.Spec?.ReadinessGates ?? [];
        if (gates.Count == 0)
        {
            return "<none>";
        }

        int ready = gates.Count(g => p.Status?.Conditions?.Any(c => c.Type == g.ConditionType && c.Status == "True") == true);
        return $"{ready}/{gates.Count}";
    }
}
