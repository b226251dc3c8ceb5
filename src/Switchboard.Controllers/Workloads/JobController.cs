using System.Globalization;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Informers;
using Switchboard.Kube.Serialization;

namespace Switchboard.Controllers.Workloads;

/// <summary>
/// upstream's Job controller. It keeps up to parallelism pods running until completions pods have succeeded (for
/// Indexed jobs, one per index 0…completions-1, each told its index in JOB_COMPLETION_INDEX), replaces failed pods
/// after an exponential backoff (10 s doubling, at most 6 min), and finishes the Job with Complete, or FailureTarget then
/// Failed for backoffLimit exceeded or activeDeadlineSeconds passed (its running pods deleted), each once every finished
/// pod is counted. Counting survives a restart as
/// upstream's does: each pod carries the <see cref="TrackingFinalizer"/>; a finished pod's uid is first written to
/// status.uncountedTerminatedPods, then its finalizer removed, then it moves into succeeded/failed, so no pod is counted
/// twice or lost whatever step a restart interrupts.
/// </summary>
internal sealed class JobController : QueueController
{
    public const string Component = "job-controller";
    public const string TrackingFinalizer = "batch.kubernetes.io/job-tracking";
    public const string CompletionIndexAnnotation = "batch.kubernetes.io/job-completion-index";
    private const string OrphanPrefix = "pod|";
    private static readonly TimeSpan BackoffBase = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan BackoffMax = TimeSpan.FromMinutes(6);
    private readonly Expectations _expectations;
    private readonly OwnWrites<V1Job> _jobs;

    public JobController(ControllerContext context)
        : base(context, "job")
    {
        _expectations = new Expectations(context.Time);
        var informers = context.Informers;
        _jobs = new OwnWrites<V1Job>(informers.Jobs);
        informers.Jobs.AddHandler(j => Queue.Add(ObjectKey.Of(j)), (_, j) => Queue.Add(ObjectKey.Of(j)), j => Queue.Add(ObjectKey.Of(j)));
        informers.Pods.AddHandler(Enqueue, (_, pod) => Enqueue(pod), Enqueue);
    }

    /// <summary>How long after its last failure a Job waits before it replaces a failed pod, given <paramref name="failures"/> so far.</summary>
    public static TimeSpan Backoff(int failures) =>
        failures <= 0 ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Min(BackoffMax.Ticks, BackoffBase.Ticks * (1L << Math.Min(failures - 1, 20))));

    /// <summary>A set of indexes as status.completedIndexes writes it: ascending, runs as <c>a-b</c> (<c>1,3-5,7</c>).</summary>
    public static string FormatIndexes(IEnumerable<int> indexes)
    {
        var sorted = indexes.Distinct().Order().ToList();
        var parts = new List<string>();
        for (int i = 0; i < sorted.Count;)
        {
            int j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1)
            {
                j++;
            }

            parts.Add(i == j ? Text(sorted[i]) : $"{Text(sorted[i])}-{Text(sorted[j])}");
            i = j + 1;
        }

        return string.Join(",", parts);
    }

    /// <summary>The indexes of status.completedIndexes.</summary>
    public static HashSet<int> ParseIndexes(string? text)
    {
        var result = new HashSet<int>();
        foreach (string part in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] bounds = part.Split('-');
            if (int.TryParse(bounds[0], NumberStyles.None, CultureInfo.InvariantCulture, out int first)
                && int.TryParse(bounds[^1], NumberStyles.None, CultureInfo.InvariantCulture, out int last))
            {
                for (int i = first; i <= last; i++)
                {
                    result.Add(i);
                }
            }
        }

        return result;
    }

    protected override async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        if (key.StartsWith(OrphanPrefix, StringComparison.Ordinal))
        {
            await ReleaseOrphanAsync(key[OrphanPrefix.Length..], cancellationToken);
            return;
        }

        var job = _jobs.Get(key);
        if (job is null)
        {
            _expectations.Forget(key);
            return;
        }

        var pods = await PodClaims.ClaimAsync(
            Context, job, "batch/v1", "Job", job.Spec.Selector,
            async ct => (IKubernetesObject<V1ObjectMeta>)await Context.Client.BatchV1.ReadNamespacedJobAsync(job.Metadata.Name, job.Metadata.NamespaceProperty, cancellationToken: ct),
            cancellationToken);
        var status = ModelJson.Clone(job.Status ?? new V1JobStatus());
        var uncounted = status.UncountedTerminatedPods ?? new V1UncountedTerminatedPods();
        var uncountedSucceeded = new List<string>(uncounted.Succeeded ?? []);
        var uncountedFailed = new List<string>(uncounted.Failed ?? []);
        bool indexed = job.Spec.CompletionMode == "Indexed";
        var completed = ParseIndexes(status.CompletedIndexes);

        // Counted: uncounted pods whose finalizer is gone (or that are gone) move into the counters.
        var byUid = pods.ToDictionary(p => p.Metadata.Uid, StringComparer.Ordinal);
        bool Released(string uid) => !byUid.TryGetValue(uid, out var pod) || pod.Metadata.Finalizers?.Contains(TrackingFinalizer) != true;
        int movedSucceeded = uncountedSucceeded.RemoveAll(Released);
        status.Failed = (status.Failed ?? 0) + uncountedFailed.RemoveAll(Released);
        if (!indexed)
        {
            status.Succeeded = (status.Succeeded ?? 0) + movedSucceeded;
        }

        // Newly finished pods (succeeded, failed, or deleted before they finished) join the uncounted ones.
        var uncountedSet = uncountedSucceeded.Concat(uncountedFailed).ToHashSet(StringComparer.Ordinal);
        var finished = new List<V1Pod>();
        foreach (var pod in pods.Where(p => p.Metadata.Finalizers?.Contains(TrackingFinalizer) == true && !uncountedSet.Contains(p.Metadata.Uid)))
        {
            if (pod.Status?.Phase == "Succeeded")
            {
                uncountedSucceeded.Add(pod.Metadata.Uid);
                if (indexed && Index(pod) is { } index && index < (job.Spec.Completions ?? 0))
                {
                    completed.Add(index);
                }
            }
            else if (pod.Status?.Phase == "Failed" || Objects.IsTerminating(pod))
            {
                uncountedFailed.Add(pod.Metadata.Uid);
            }
            else
            {
                continue;
            }

            finished.Add(pod);
        }

        var now = Context.Time.GetUtcNow();
        var active = pods.Where(Objects.IsActive).ToList();
        int succeeded = indexed ? completed.Count : (status.Succeeded ?? 0) + uncountedSucceeded.Count;
        int failed = (status.Failed ?? 0) + uncountedFailed.Count;
        if (job.Spec.Template.Spec.RestartPolicy == "OnFailure")
        {
            failed += active.Sum(p => p.Status?.ContainerStatuses?.Sum(c => c.RestartCount) ?? 0);
        }

        bool suspended = job.Spec.Suspend == true;
        if (!IsFinished(job) && job.Metadata.DeletionTimestamp is null)
        {
            // A Job already failing keeps its reason; its Failed condition waits until every pod is counted.
            var target = job.Status?.Conditions?.FirstOrDefault(c => c.Type == "FailureTarget" && c.Status == "True");
            string? failure = target?.Reason;
            string message = target?.Message ?? "";
            if (failure is null && failed > (job.Spec.BackoffLimit ?? 6))
            {
                (failure, message) = ("BackoffLimitExceeded", "Job has reached the specified backoff limit");
            }
            else if (failure is null && !suspended && job.Spec.ActiveDeadlineSeconds is { } deadline && status.StartTime is { } started)
            {
                var due = new DateTimeOffset(DateTime.SpecifyKind(started, DateTimeKind.Utc)) + TimeSpan.FromSeconds(deadline);
                if (now >= due)
                {
                    (failure, message) = ("DeadlineExceeded", "Job was active longer than specified deadline");
                }
                else
                {
                    Queue.AddAfter(key, due - now);
                }
            }

            // As upstream, Complete and Failed are written only once every finished pod is counted, so a reader of
            // either condition finds the final succeeded and failed numbers.
            bool allCounted = uncountedSucceeded.Count == 0 && uncountedFailed.Count == 0;
            bool complete = job.Spec.Completions is { } completions ? succeeded >= completions : succeeded > 0 && active.Count == 0;
            if (failure is not null)
            {
                await DeletePodsAsync(job, active, cancellationToken);
                active.Clear();
                if (target is null)
                {
                    SetCondition(status, "FailureTarget", failure, message, now);
                }

                if (allCounted)
                {
                    SetCondition(status, "Failed", failure, message, now);
                    Context.Events.Warning(job, Component, failure, message);
                }
            }
            else if (complete)
            {
                await DeletePodsAsync(job, active, cancellationToken);
                active.Clear();
                if (allCounted)
                {
                    SetCondition(status, "Complete", "CompletionsReached", "Reached expected number of succeeded pods", now);
                    status.CompletionTime = now.UtcDateTime;
                    Context.Events.Normal(job, Component, "Completed", "Job completed");
                }
            }
            else if (suspended)
            {
                await DeletePodsAsync(job, active, cancellationToken);
                active.Clear();
                if (!HasCondition(job, "Suspended"))
                {
                    SetCondition(status, "Suspended", "JobSuspended", "Job suspended", now);
                    status.StartTime = null;
                    Context.Events.Normal(job, Component, "Suspended", "Job suspended");
                }
            }
            else
            {
                if (HasCondition(job, "Suspended"))
                {
                    SetCondition(status, "Suspended", "JobResumed", "Job resumed", now, "False");
                    Context.Events.Normal(job, Component, "Resumed", "Job resumed");
                }

                status.StartTime ??= now.UtcDateTime;
                active = await ManagePodsAsync(key, job, pods, active, completed, succeeded, failed, now, cancellationToken);
            }
        }

        status.Active = active.Count;
        status.Ready = active.Count(Objects.IsReady);
        status.Terminating = pods.Count(p => Objects.IsTerminating(p) && !Objects.IsTerminal(p));
        if (indexed)
        {
            status.Succeeded = completed.Count;
        }

        status.CompletedIndexes = indexed ? FormatIndexes(completed) : null;
        status.UncountedTerminatedPods = new V1UncountedTerminatedPods { Succeeded = uncountedSucceeded, Failed = uncountedFailed };
        if (!ModelJson.SemanticallyEqual(status, job.Status))
        {
            var desired = ModelJson.Clone(job);
            desired.Status = status;
            await _jobs.WriteAsync(desired, () => Context.Client.BatchV1.ReplaceNamespacedJobStatusAsync(desired, job.Metadata.Name, job.Metadata.NamespaceProperty, cancellationToken: cancellationToken));
        }

        // Only once their uids are recorded may the finished pods lose their finalizer; the next sync counts them.
        var release = pods.Where(p => p.Metadata.Finalizers?.Contains(TrackingFinalizer) == true
            && (uncountedSucceeded.Contains(p.Metadata.Uid) || uncountedFailed.Contains(p.Metadata.Uid)));
        await Task.WhenAll(release.Select(p => RemoveFinalizerAsync(p, cancellationToken)));
    }

    /// <summary>Creates the pods the Job lacks (after the failure backoff) and deletes surplus ones; returns the active pods left.</summary>
    private async Task<List<V1Pod>> ManagePodsAsync(string key, V1Job job, List<V1Pod> pods, List<V1Pod> active, HashSet<int> completed, int succeeded, int failed, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var podCache = Context.Informers.Pods.Cache;
        string ns = job.Metadata.NamespaceProperty;
        var (creates, _) = _expectations.Pending(key, name => podCache.Get(ns, name) is not null, _ => false);
        if (creates.Count > 0)
        {
            return active;
        }

        int parallelism = job.Spec.Parallelism ?? 1;
        int want = job.Spec.Completions is { } completions ? Math.Min(parallelism, completions - succeeded) : succeeded > 0 ? 0 : parallelism;
        want = Math.Max(0, want);
        if (active.Count > want)
        {
            var surplus = active.OrderBy(DeletionRank.Of).ThenByDescending(p => p.Metadata.CreationTimestamp).Take(active.Count - want).ToList();
            await DeletePodsAsync(job, surplus, cancellationToken);
            return [.. active.Except(surplus)];
        }

        int missing = want - active.Count;
        if (missing == 0)
        {
            return active;
        }

        // Replacing a failed pod waits out the backoff from the most recent failure.
        var lastFailure = pods.Where(p => p.Status?.Phase == "Failed" || Objects.IsTerminating(p)).Select(FailedAt).DefaultIfEmpty(null).Max();
        if (failed > 0 && lastFailure is { } last && now < last + Backoff(failed))
        {
            Queue.AddAfter(key, last + Backoff(failed) - now);
            return active;
        }

        var indexes = new List<int?>();
        if (job.Spec.CompletionMode == "Indexed")
        {
            var running = active.Select(Index).OfType<int>().ToHashSet();
            indexes.AddRange(Enumerable.Range(0, job.Spec.Completions ?? 0).Where(i => !completed.Contains(i) && !running.Contains(i)).Take(missing).Select(i => (int?)i));
        }
        else
        {
            indexes.AddRange(Enumerable.Repeat<int?>(null, missing));
        }

        await Task.WhenAll(indexes.Select(index => CreatePodAsync(key, job, index, cancellationToken)));
        return active;
    }

    private async Task CreatePodAsync(string key, V1Job job, int? index, CancellationToken cancellationToken)
    {
        var template = job.Spec.Template;
        var spec = ModelJson.Clone(template.Spec);
        var labels = new Dictionary<string, string>(template.Metadata?.Labels ?? new Dictionary<string, string>());
        var annotations = new Dictionary<string, string>(template.Metadata?.Annotations ?? new Dictionary<string, string>());
        string generateName = job.Metadata.Name + "-";
        if (index is { } i)
        {
            string text = Text(i);
            labels[CompletionIndexAnnotation] = text;
            annotations[CompletionIndexAnnotation] = text;
            generateName = $"{job.Metadata.Name}-{text}-";
            spec.Hostname = $"{job.Metadata.Name}-{text}";
            foreach (var container in spec.Containers.Concat(spec.InitContainers ?? []))
            {
                container.Env = [.. (container.Env ?? []).Where(e => e.Name != "JOB_COMPLETION_INDEX"), new V1EnvVar
                {
                    Name = "JOB_COMPLETION_INDEX",
                    ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = $"metadata.annotations['{CompletionIndexAnnotation}']" } },
                }];
            }
        }

        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                GenerateName = generateName,
                Labels = labels,
                Annotations = annotations.Count == 0 ? null : annotations,
                Finalizers = [TrackingFinalizer],
                OwnerReferences = [Objects.ControllerReference(job, "batch/v1", "Job")],
            },
            Spec = spec,
        };
        try
        {
            var created = await Context.Client.CoreV1.CreateNamespacedPodAsync(pod, job.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
            _expectations.Created(key, created.Metadata.Name);
            Context.Events.Normal(job, Component, "SuccessfulCreate", $"Created pod: {created.Metadata.Name}");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Context.Events.Warning(job, Component, "FailedCreate", $"Error creating: {e.Message}");
            throw;
        }
    }

    private async Task DeletePodsAsync(V1Job job, IEnumerable<V1Pod> pods, CancellationToken cancellationToken) =>
        await Task.WhenAll(pods.Select(async pod =>
        {
            try
            {
                await Context.Client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, pod.Metadata.NamespaceProperty,
                    new V1DeleteOptions { Preconditions = new V1Preconditions { Uid = pod.Metadata.Uid } }, cancellationToken: cancellationToken);
                Context.Events.Normal(job, Component, "SuccessfulDelete", $"Deleted pod: {pod.Metadata.Name}");
            }
            catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
            {
                // Already gone.
            }
        }));

    private async Task RemoveFinalizerAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        var remaining = (pod.Metadata.Finalizers ?? []).Where(f => f != TrackingFinalizer).ToList();
        try
        {
            await Context.Client.CoreV1.PatchNamespacedPodAsync(new V1Patch(Json.MetadataListPatch(pod, "finalizers", remaining).ToJsonString(), V1Patch.PatchType.MergePatch),
                pod.Metadata.Name, pod.Metadata.NamespaceProperty, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            // Gone, or changed since: its next event brings it back here.
        }
    }

    /// <summary>A pod that still carries the finalizer but whose Job is gone: nobody will count it, so it is let go.</summary>
    private async Task ReleaseOrphanAsync(string podKey, CancellationToken cancellationToken)
    {
        if (Context.Informers.Pods.Cache.Get(podKey) is not { } pod || pod.Metadata.Finalizers?.Contains(TrackingFinalizer) != true)
        {
            return;
        }

        var owner = Objects.ControllerOf(pod);
        bool jobExists = owner is { Kind: "Job" } && Context.Informers.Jobs.Cache.Get(pod.Metadata.NamespaceProperty, owner.Name) is { } job && job.Metadata.Uid == owner.Uid;
        if (!jobExists)
        {
            await RemoveFinalizerAsync(pod, cancellationToken);
        }
    }

    private void Enqueue(V1Pod pod)
    {
        var owner = Objects.ControllerOf(pod);
        if (owner is { Kind: "Job" } && Context.Informers.Jobs.Cache.Get(pod.Metadata.NamespaceProperty, owner.Name) is { } job && job.Metadata.Uid == owner.Uid)
        {
            Queue.Add(ObjectKey.Of(job));
        }
        else if (pod.Metadata.Finalizers?.Contains(TrackingFinalizer) == true)
        {
            Queue.Add(OrphanPrefix + ObjectKey.Of(pod));
        }
    }

    private static DateTimeOffset? FailedAt(V1Pod pod)
    {
        var finishedAt = pod.Status?.ContainerStatuses?.Select(c => c.State?.Terminated?.FinishedAt).OfType<DateTime>().DefaultIfEmpty().Max();
        var at = finishedAt is { } f && f != default ? f : pod.Metadata.DeletionTimestamp ?? pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready")?.LastTransitionTime ?? pod.Metadata.CreationTimestamp;
        return at is { } time ? new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)) : null;
    }

    private static int? Index(V1Pod pod) =>
        pod.Metadata.Annotations?.TryGetValue(CompletionIndexAnnotation, out string? text) == true
        && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int index) ? index : null;

    public static bool IsFinished(V1Job job) => HasCondition(job, "Complete") || HasCondition(job, "Failed");

    private static bool HasCondition(V1Job job, string type) => job.Status?.Conditions?.Any(c => c.Type == type && c.Status == "True") == true;

    private static void SetCondition(V1JobStatus status, string type, string reason, string message, DateTimeOffset now, string value = "True")
    {
        var conditions = status.Conditions ??= [];
        var existing = conditions.FirstOrDefault(c => c.Type == type);
        if (existing is null)
        {
            conditions.Add(new V1JobCondition { Type = type, Status = value, Reason = reason, Message = message, LastProbeTime = now.UtcDateTime, LastTransitionTime = now.UtcDateTime });
            return;
        }

        if (existing.Status != value)
        {
            existing.LastTransitionTime = now.UtcDateTime;
        }

        (existing.Status, existing.Reason, existing.Message, existing.LastProbeTime) = (value, reason, message, now.UtcDateTime);
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
