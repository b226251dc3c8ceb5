using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;
using Switchboard.Kube.Cron;

namespace Switchboard.ApiServer.Kinds;

/// <summary>
/// batch/v1 CronJobs: upstream's defaults and checks, the schedule parsed as the CronJob controller parses it and
/// the time zone looked up among the IANA names the controller can use.
/// </summary>
internal sealed class CronJobStrategy : ResourceStrategy<V1CronJob>
{
    /// <summary>Job names are the CronJob's plus 11 characters, and must fit a 63-character label.</summary>
    private const int MaxNameLength = 52;

    private static readonly IReadOnlyList<TableColumn<V1CronJob>> Table =
    [
        Columns.Name<V1CronJob>(),
        new("Schedule", "string", 0, (c, _) => c.Spec?.Schedule ?? "", "", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
        new("Timezone", "string", 0, (c, _) => Columns.OrNone(c.Spec?.TimeZone), "", "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones."),
        new("Suspend", "boolean", 0, (c, _) => c.Spec?.Suspend == true ? "True" : "False", "", "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false."),
        new("Active", "integer", 0, (c, _) => c.Status?.Active?.Count ?? 0, "", "A list of pointers to currently running jobs."),
        new("Last Schedule", "string", 0, (c, now) => c.Status?.LastScheduleTime is { } last ? Columns.Age(last, now) : "<none>", "", "Information when was the last time the job was successfully scheduled."),
        Columns.Age<V1CronJob>(),
        new("Containers", "string", 1, (c, _) => WorkloadRules.Containers(c.Spec?.JobTemplate?.Spec?.Template), "", "Names of each container in the template."),
        new("Images", "string", 1, (c, _) => WorkloadRules.Images(c.Spec?.JobTemplate?.Spec?.Template), "", "Images referenced by each container in the template."),
        new("Selector", "string", 1, (c, _) => Columns.Selector(c.Spec?.JobTemplate?.Spec?.Selector), "", "Selector that selects pods of the job."),
    ];

    public override IReadOnlyList<TableColumn<V1CronJob>> TableColumns => Table;

    public override void Default(V1CronJob obj)
    {
        var spec = obj.Spec ??= new V1CronJobSpec();
        spec.ConcurrencyPolicy ??= "Allow";
        spec.Suspend ??= false;
        spec.SuccessfulJobsHistoryLimit ??= 3;
        spec.FailedJobsHistoryLimit ??= 1;
        spec.JobTemplate ??= new V1JobTemplateSpec();
        JobStrategy.Default(spec.JobTemplate.Spec ??= new V1JobSpec());
    }

    public override IEnumerable<FieldError> Validate(V1CronJob obj)
    {
        if (obj.Metadata.Name is { Length: > MaxNameLength } name)
        {
            yield return FieldError.Invalid("metadata.name", name, $"must be no more than {MaxNameLength} characters");
        }

        var spec = obj.Spec;
        string schedule = spec?.Schedule ?? "";
        if (schedule.Length == 0)
        {
            yield return FieldError.Required("spec.schedule");
        }
        else if (schedule.Contains("TZ", StringComparison.Ordinal))
        {
            yield return FieldError.Invalid("spec.schedule", schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
        }
        else if (!CronSchedule.TryParse(schedule, out _, out string error))
        {
            yield return FieldError.Invalid("spec.schedule", schedule, error);
        }

        if (spec?.TimeZone is { } zone && !CronTimeZone.TryFind(zone, out _))
        {
            yield return FieldError.Invalid("spec.timeZone", zone, "unknown time zone " + zone);
        }

        if (spec?.ConcurrencyPolicy is not ("Allow" or "Forbid" or "Replace"))
        {
            yield return FieldError.NotSupported("spec.concurrencyPolicy", spec?.ConcurrencyPolicy, "Allow", "Forbid", "Replace");
        }

        foreach (var (field, value) in new[] { ("startingDeadlineSeconds", spec?.StartingDeadlineSeconds), ("successfulJobsHistoryLimit", spec?.SuccessfulJobsHistoryLimit), ("failedJobsHistoryLimit", spec?.FailedJobsHistoryLimit) })
        {
            if (value is < 0)
            {
                yield return FieldError.Invalid("spec." + field, value, "must be greater than or equal to 0");
            }
        }

        foreach (var error in JobStrategy.Validate(spec?.JobTemplate?.Spec, "spec.jobTemplate.spec"))
        {
            yield return error;
        }
    }
}
