using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.Kinds;

/// <summary>
/// batch/v1 Jobs: upstream's defaults, the selector generated from the Job's uid (unless spec.manualSelector), and
/// its checks; the table's Status column is kubectl 1.32's.
/// </summary>
internal sealed class JobStrategy : ResourceStrategy<V1Job>
{
    public const string ControllerUidLabel = "batch.kubernetes.io/controller-uid";
    public const string JobNameLabel = "batch.kubernetes.io/job-name";
    private const string LegacyControllerUidLabel = "controller-uid";
    private const string LegacyJobNameLabel = "job-name";
    private static readonly string[] RestartPolicies = ["OnFailure", "Never"];

    private static readonly IReadOnlyList<TableColumn<V1Job>> Table =
    [
        Columns.Name<V1Job>(),
        new("Status", "string", 0, (j, _) => Status(j), "", "Status of the job."),
        new("Completions", "string", 0, (j, _) => Completions(j), "", "The completion status of the job."),
        new("Duration", "string", 0, Duration, "", "Time required to complete the job."),
        Columns.Age<V1Job>(),
        new("Containers", "string", 1, (j, _) => WorkloadRules.Containers(j.Spec?.Template), "", "Names of each container in the template."),
        new("Images", "string", 1, (j, _) => WorkloadRules.Images(j.Spec?.Template), "", "Images referenced by each container in the template."),
        new("Selector", "string", 1, (j, _) => Columns.Selector(j.Spec?.Selector), "", "Selector that selects pods of the job."),
    ];

    public override IReadOnlyList<TableColumn<V1Job>> TableColumns => Table;

    public override void Default(V1Job obj)
    {
        var spec = obj.Spec ??= new V1JobSpec();
        Default(spec);
        if (spec.Selector is null && spec.ManualSelector != true && !string.IsNullOrEmpty(obj.Metadata.Uid))
        {
            var labels = spec.Template.Metadata ??= new V1ObjectMeta();
            labels.Labels ??= new Dictionary<string, string>();
            labels.Labels[ControllerUidLabel] = obj.Metadata.Uid;
            labels.Labels[JobNameLabel] = obj.Metadata.Name;
            labels.Labels[LegacyControllerUidLabel] = obj.Metadata.Uid;
            labels.Labels[LegacyJobNameLabel] = obj.Metadata.Name;
            spec.Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [ControllerUidLabel] = obj.Metadata.Uid } };
        }
    }

    /// <summary>The defaults of a Job's spec, also those of a CronJob's job template (SetDefaults_Job).</summary>
    public static void Default(V1JobSpec spec)
    {
        if (spec.Completions is null && spec.Parallelism is null)
        {
            spec.Completions = 1;
        }

        spec.Parallelism ??= 1;
        spec.BackoffLimit ??= spec.BackoffLimitPerIndex is null ? 6 : int.MaxValue;
        spec.CompletionMode ??= "NonIndexed";
        spec.Suspend ??= false;
        spec.PodReplacementPolicy ??= spec.PodFailurePolicy is null ? "TerminatingOrFailed" : "Failed";
        spec.Template ??= new V1PodTemplateSpec();
        spec.Template.Spec ??= new V1PodSpec();
        PodSpecRules.Default(spec.Template.Spec);
    }

    public override IEnumerable<FieldError> Validate(V1Job obj)
    {
        foreach (var error in Validate(obj.Spec, "spec"))
        {
            yield return error;
        }

        if (obj.Spec?.ManualSelector != true && obj.Spec?.Selector is { } selector
            && (selector.MatchLabels?.TryGetValue(ControllerUidLabel, out string? uid) != true || uid != obj.Metadata.Uid))
        {
            yield return FieldError.Invalid("spec.selector", new LiteralValue(Columns.Selector(selector)), "`selector` not auto-generated");
        }
    }

    /// <summary>The checks of a Job's spec at <paramref name="path"/>, shared with a CronJob's job template.</summary>
    public static IEnumerable<FieldError> Validate(V1JobSpec? spec, string path)
    {
        bool template = path != "spec";
        var errors = WorkloadRules.Validate(spec?.Selector, spec?.Template, replicas: null, path, RestartPolicies);
        foreach (var error in template ? errors.Where(e => e.Field != path + ".selector") : errors)
        {
            yield return error;
        }

        foreach (var (field, value) in new[] { ("parallelism", spec?.Parallelism), ("completions", spec?.Completions), ("backoffLimit", spec?.BackoffLimit), ("ttlSecondsAfterFinished", spec?.TtlSecondsAfterFinished) })
        {
            if (value is < 0)
            {
                yield return FieldError.Invalid($"{path}.{field}", value, "must be greater than or equal to 0");
            }
        }

        if (spec?.ActiveDeadlineSeconds is <= 0 and var deadline)
        {
            yield return FieldError.Invalid(path + ".activeDeadlineSeconds", deadline, "must be greater than 0");
        }

        if (spec?.CompletionMode is not ("NonIndexed" or "Indexed"))
        {
            yield return FieldError.NotSupported(path + ".completionMode", spec?.CompletionMode, "NonIndexed", "Indexed");
        }
        else if (spec.CompletionMode == "Indexed")
        {
            if (spec.Completions is null)
            {
                yield return FieldError.Required(path + ".completions", "when completion mode is Indexed");
            }
            else if (spec.Completions > 100_000)
            {
                yield return FieldError.Invalid(path + ".completions", spec.Completions, "must be less than or equal to 100000 when completion mode is Indexed");
            }
        }
    }

    public override IEnumerable<FieldError> ValidateUpdate(V1Job obj, V1Job old)
    {
        foreach (var error in Validate(obj))
        {
            yield return error;
        }

        var spec = obj.Spec;
        if (!ModelJson.SemanticallyEqual(spec?.Selector, old.Spec?.Selector))
        {
            yield return FieldError.Invalid("spec.selector", new LiteralValue(Columns.Selector(spec?.Selector)), "field is immutable");
        }

        // A suspended Job that never started may still change its template (for queueing controllers), as upstream allows.
        bool mayChangeTemplate = old.Spec?.Suspend == true && old.Status?.StartTime is null;
        if (!mayChangeTemplate && !ModelJson.SemanticallyEqual(spec?.Template, old.Spec?.Template))
        {
            yield return FieldError.Invalid("spec.template", new LiteralValue("core.PodTemplateSpec{...}"), "field is immutable");
        }

        bool elastic = spec?.CompletionMode == "Indexed" && spec.Completions == spec.Parallelism && old.Spec?.Completions == old.Spec?.Parallelism;
        if (spec?.Completions != old.Spec?.Completions && !elastic)
        {
            yield return FieldError.Invalid("spec.completions", spec?.Completions, "field is immutable");
        }

        if (spec?.CompletionMode != old.Spec?.CompletionMode)
        {
            yield return FieldError.Invalid("spec.completionMode", spec?.CompletionMode, "field is immutable");
        }
    }

    /// <summary>kubectl 1.32's Status column: the finished condition, else what the Job is doing.</summary>
    private static string Status(V1Job job)
    {
        bool Has(string type) => job.Status?.Conditions?.Any(c => c.Type == type && c.Status == "True") == true;
        return Has("Complete") ? "Complete"
            : Has("Failed") ? "Failed"
            : job.Metadata.DeletionTimestamp is not null ? "Terminating"
            : Has("SuccessCriteriaMet") ? "SuccessCriteriaMet"
            : Has("FailureTarget") ? "FailureTarget"
            : Has("Suspended") ? "Suspended"
            : "Running";
    }

    private static string Completions(V1Job job)
    {
        int succeeded = job.Status?.Succeeded ?? 0;
        if (job.Spec?.Completions is { } completions)
        {
            return $"{succeeded}/{completions}";
        }

        int parallelism = job.Spec?.Parallelism ?? 0;
        return parallelism > 1 ? $"{succeeded}/1 of {parallelism}" : $"{succeeded}/1";
    }

    private static object? Duration(V1Job job, DateTimeOffset now)
    {
        if (job.Status?.StartTime is not { } start)
        {
            return "";
        }

        var end = job.Status.CompletionTime is { } done ? new DateTimeOffset(DateTime.SpecifyKind(done, DateTimeKind.Utc)) : now;
        return HumanDuration.Format(end - new DateTimeOffset(DateTime.SpecifyKind(start, DateTimeKind.Utc)));
    }
}
