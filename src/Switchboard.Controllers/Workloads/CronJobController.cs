using System.Globalization;
using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Cron;
using Switchboard.Kube.Informers;
using Switchboard.Kube.Serialization;

namespace Switchboard.Controllers.Workloads;

/// <summary>
/// upstream's CronJob controller (v2): at each time the schedule names in the CronJob's time zone it creates the Job
/// <c>&lt;cronjob&gt;-&lt;minutes since the epoch&gt;</c> (so a restart or a retry never makes a second one), honouring
/// suspend, startingDeadlineSeconds and the concurrency policy (Allow, Forbid: skip while one runs, Replace: delete the
/// running ones first); it keeps status.active and lastScheduleTime/lastSuccessfulTime, deletes finished Jobs beyond the
/// history limits, and sleeps until the next scheduled time on the controllers' clock (a fake one in tests).
/// </summary>
internal sealed class CronJobController : QueueController
{
    public const string Component = "cronjob-controller";
    public const string ScheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp";

    /// <summary>Past this many missed start times the controller warns, as upstream does.</summary>
    private const int TooManyMissed = 100;

    /// <summary>Wakes a little after the scheduled time, so the clock has surely passed it.</summary>
    private static readonly TimeSpan WakeSlack = TimeSpan.FromMilliseconds(100);
    private readonly OwnWrites<V1CronJob> _cronJobs;

    public CronJobController(ControllerContext context)
        : base(context, "cronjob")
    {
        var informers = context.Informers;
        _cronJobs = new OwnWrites<V1CronJob>(informers.CronJobs);
        informers.CronJobs.AddHandler(c => Queue.Add(ObjectKey.Of(c)), (_, c) => Queue.Add(ObjectKey.Of(c)));
        informers.Jobs.AddHandler(EnqueueOwner, (_, job) => EnqueueOwner(job), EnqueueOwner);
    }

    /// <summary>
    /// The latest scheduled time at or before <paramref name="now"/> that has not run (after lastScheduleTime, or the
    /// creation; within startingDeadlineSeconds when set), and how many were missed; null when none is due.
    /// </summary>
    public static (DateTimeOffset? Time, int Missed) MostRecentScheduleTime(V1CronJob cronJob, CronSchedule schedule, TimeZoneInfo zone, DateTimeOffset now)
    {
        var earliest = Utc(cronJob.Status?.LastScheduleTime ?? cronJob.Metadata.CreationTimestamp ?? now.UtcDateTime);
        if (cronJob.Spec.StartingDeadlineSeconds is { } deadline && now - TimeSpan.FromSeconds(deadline) > earliest)
        {
            earliest = now - TimeSpan.FromSeconds(deadline);
        }

        DateTimeOffset? latest = null;
        int missed = 0;
        for (var t = schedule.Next(earliest, zone); t is { } due && due <= now; t = schedule.Next(due, zone))
        {
            latest = due;
            missed++;
        }

        return (latest, missed);
    }

    /// <summary>The name of the Job for <paramref name="scheduled"/>: the CronJob's and the minutes since the epoch.</summary>
    public static string JobName(V1CronJob cronJob, DateTimeOffset scheduled) =>
        $"{cronJob.Metadata.Name}-{(scheduled.ToUnixTimeSeconds() / 60).ToString(CultureInfo.InvariantCulture)}";

    protected override async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        var cronJob = _cronJobs.Get(key);
        if (cronJob is null || cronJob.Metadata.DeletionTimestamp is not null)
        {
            return;
        }

        var now = Context.Time.GetUtcNow();
        var status = ModelJson.Clone(cronJob.Status ?? new V1CronJobStatus());
        var jobs = Context.Informers.Jobs.Cache.ByIndex(SharedInformers.OwnerIndex, cronJob.Metadata.Uid).Where(j => Objects.IsControlledBy(j, cronJob)).ToList();
        await ReconcileActiveAsync(cronJob, status, jobs, cancellationToken);
        await CleanUpHistoryAsync(cronJob, jobs, cancellationToken);

        if (cronJob.Spec.Suspend != true)
        {
            await ScheduleAsync(key, cronJob, status, now, cancellationToken);
        }

        status.Active = status.Active is { Count: > 0 } ? status.Active : null;
        if (!ModelJson.SemanticallyEqual(status, cronJob.Status))
        {
            var desired = ModelJson.Clone(cronJob);
            desired.Status = status;
            await _cronJobs.WriteAsync(desired, () => Context.Client.BatchV1.ReplaceNamespacedCronJobStatusAsync(desired, cronJob.Metadata.Name, cronJob.Metadata.NamespaceProperty, cancellationToken: cancellationToken));
        }
    }

    /// <summary>Finished Jobs leave status.active (a Complete one sets lastSuccessfulTime), and so do listed Jobs that are gone.</summary>
    private async Task ReconcileActiveAsync(V1CronJob cronJob, V1CronJobStatus status, List<V1Job> jobs, CancellationToken cancellationToken)
    {
        var active = status.Active ?? [];
        foreach (var job in jobs)
        {
            bool listed = active.Any(r => r.Uid == job.Metadata.Uid);
            if (JobController.IsFinished(job))
            {
                if (listed)
                {
                    active = [.. active.Where(r => r.Uid != job.Metadata.Uid)];
                    string outcome = job.Status!.Conditions!.First(c => c.Type is "Complete" or "Failed" && c.Status == "True").Type;
                    Context.Events.Normal(cronJob, Component, "SawCompletedJob", $"Saw completed job: {job.Metadata.Name}, status: {outcome}");
                }

                if (job.Status?.CompletionTime is { } done && (status.LastSuccessfulTime is not { } last || done > last))
                {
                    status.LastSuccessfulTime = done;
                }
            }
            else if (!listed)
            {
                // As upstream: a Job someone else made with this owner (kubectl create job --from) is not adopted into
                // status.active. A Job this controller made before a restart is found again by its name when due.
                Context.Events.Warning(cronJob, Component, "UnexpectedJob", $"Saw a job that the controller did not create or forgot: {job.Metadata.Name}");
            }
        }

        // A listed Job missing from the cache may be one just created: only the server can say it is gone.
        foreach (var reference in active.Where(r => !jobs.Any(j => j.Metadata.Uid == r.Uid)).ToList())
        {
            var found = await ApiCalls.IgnoreNotFoundAsync(() => Context.Client.BatchV1.ReadNamespacedJobAsync(reference.Name, reference.NamespaceProperty ?? cronJob.Metadata.NamespaceProperty, cancellationToken: cancellationToken));
            if (found is null || found.Metadata.Uid != reference.Uid)
            {
                active = [.. active.Where(r => r.Uid != reference.Uid)];
            }
        }

        status.Active = active;
    }

    /// <summary>Deletes the oldest finished Jobs past successfulJobsHistoryLimit and failedJobsHistoryLimit.</summary>
    private async Task CleanUpHistoryAsync(V1CronJob cronJob, List<V1Job> jobs, CancellationToken cancellationToken)
    {
        var finished = jobs.Where(j => JobController.IsFinished(j) && j.Metadata.DeletionTimestamp is null).ToList();
        var succeeded = finished.Where(j => j.Status!.Conditions!.Any(c => c.Type == "Complete" && c.Status == "True"));
        var failed = finished.Where(j => j.Status!.Conditions!.Any(c => c.Type == "Failed" && c.Status == "True"));
        foreach (var (group, limit) in new[] { (succeeded, cronJob.Spec.SuccessfulJobsHistoryLimit ?? 3), (failed, cronJob.Spec.FailedJobsHistoryLimit ?? 1) })
        {
            var oldestFirst = group.OrderBy(j => j.Status?.StartTime ?? j.Metadata.CreationTimestamp).ToList();
            foreach (var job in oldestFirst.Take(Math.Max(0, oldestFirst.Count - limit)))
            {
                await DeleteJobAsync(cronJob, job, cancellationToken);
            }
        }
    }

    private async Task ScheduleAsync(string key, V1CronJob cronJob, V1CronJobStatus status, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!CronTimeZone.TryFind(cronJob.Spec.TimeZone, out var zone))
        {
            Context.Events.Warning(cronJob, Component, "UnknownTimeZone", $"invalid timeZone: \"{cronJob.Spec.TimeZone}\"");
            return;
        }

        if (!CronSchedule.TryParse(cronJob.Spec.Schedule, out var schedule, out string error))
        {
            Context.Events.Warning(cronJob, Component, "UnparseableSchedule", $"unparseable schedule: \"{cronJob.Spec.Schedule}\" : {error}");
            return;
        }

        if (schedule!.Next(now, zone) is { } next)
        {
            // From the clock as it is now, not as the sync began: the writes above took a while, and a test's clock may
            // have jumped past the next run meanwhile (then the sync comes again at once).
            Queue.AddAfter(key, next - Context.Time.GetUtcNow() + WakeSlack);
        }

        var (scheduled, missed) = MostRecentScheduleTime(cronJob, schedule, zone, now);
        if (scheduled is not { } due)
        {
            return;
        }

        if (missed > TooManyMissed)
        {
            Context.Events.Warning(cronJob, Component, "TooManyMissedTimes", "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew");
        }

        if (cronJob.Spec.StartingDeadlineSeconds is { } deadline && due + TimeSpan.FromSeconds(deadline) < now)
        {
            Context.Events.Warning(cronJob, Component, "MissSchedule", $"Missed scheduled time to start a job: {TimeZoneInfo.ConvertTime(due, zone):yyyy-MM-ddTHH:mm:sszzz}");
            return;
        }

        string name = JobName(cronJob, due);
        if (status.Active?.Any(r => r.Name == name) == true)
        {
            return;
        }

        if (cronJob.Spec.ConcurrencyPolicy == "Forbid" && status.Active is { Count: > 0 })
        {
            Context.Events.Normal(cronJob, Component, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid");
            return;
        }

        if (cronJob.Spec.ConcurrencyPolicy == "Replace")
        {
            foreach (var reference in status.Active ?? [])
            {
                await DeleteJobAsync(cronJob, new V1Job { Metadata = new V1ObjectMeta { Name = reference.Name, NamespaceProperty = cronJob.Metadata.NamespaceProperty, Uid = reference.Uid } }, cancellationToken);
            }

            status.Active = [];
        }

        var job = await CreateJobAsync(cronJob, name, due, zone, cancellationToken);
        if (job is null)
        {
            return;
        }

        if (!JobController.IsFinished(job) && status.Active?.Any(r => r.Uid == job.Metadata.Uid) != true)
        {
            status.Active = [.. status.Active ?? [], Reference(job)];
        }

        status.LastScheduleTime = due.UtcDateTime;
    }

    /// <summary>Creates the Job for <paramref name="scheduled"/>; one of that name it already owns counts as created. Null when another owns the name.</summary>
    private async Task<V1Job?> CreateJobAsync(V1CronJob cronJob, string name, DateTimeOffset scheduled, TimeZoneInfo zone, CancellationToken cancellationToken)
    {
        var template = cronJob.Spec.JobTemplate;
        var job = new V1Job
        {
            Metadata = new V1ObjectMeta
            {
                Name = name,
                Labels = template.Metadata?.Labels is { } labels ? new Dictionary<string, string>(labels) : null,
                Annotations = new Dictionary<string, string>(template.Metadata?.Annotations ?? new Dictionary<string, string>())
                {
                    [ScheduledTimestampAnnotation] = TimeZoneInfo.ConvertTime(scheduled, zone).ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture).Replace("+00:00", "Z", StringComparison.Ordinal),
                },
                OwnerReferences = [Objects.ControllerReference(cronJob, "batch/v1", "CronJob")],
            },
            Spec = ModelJson.Clone(template.Spec),
        };
        string ns = cronJob.Metadata.NamespaceProperty;
        try
        {
            var created = await Context.Client.BatchV1.CreateNamespacedJobAsync(job, ns, cancellationToken: cancellationToken);
            Context.Events.Normal(cronJob, Component, "SuccessfulCreate", $"Created job {name}");
            return created;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            var existing = await Context.Client.BatchV1.ReadNamespacedJobAsync(name, ns, cancellationToken: cancellationToken);
            if (Objects.IsControlledBy(existing, cronJob))
            {
                return existing;
            }

            Context.Events.Warning(cronJob, Component, "FailedCreate", $"Error creating job: jobs.batch \"{name}\" already exists and is not owned by this CronJob");
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Context.Events.Warning(cronJob, Component, "FailedCreate", $"Error creating job: {e.Message}");
            throw;
        }
    }

    private async Task DeleteJobAsync(V1CronJob cronJob, V1Job job, CancellationToken cancellationToken)
    {
        try
        {
            await Context.Client.BatchV1.DeleteNamespacedJobAsync(job.Metadata.Name, job.Metadata.NamespaceProperty,
                new V1DeleteOptions { PropagationPolicy = "Background", Preconditions = new V1Preconditions { Uid = job.Metadata.Uid } }, cancellationToken: cancellationToken);
            Context.Events.Normal(cronJob, Component, "SuccessfulDelete", $"Deleted job {job.Metadata.Name}");
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            // Already gone.
        }
    }

    private static V1ObjectReference Reference(V1Job job) => new()
    {
        ApiVersion = "batch/v1",
        Kind = "Job",
        Name = job.Metadata.Name,
        NamespaceProperty = job.Metadata.NamespaceProperty,
        Uid = job.Metadata.Uid,
        ResourceVersion = job.Metadata.ResourceVersion,
    };

    private static DateTimeOffset Utc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc));

    private void EnqueueOwner(V1Job job)
    {
        if (Objects.ControllerOf(job) is { Kind: "CronJob" } owner)
        {
            Queue.Add(ObjectKey.Of(job.Metadata.NamespaceProperty, owner.Name));
        }
    }
}
