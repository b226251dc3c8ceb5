using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Kinds;

namespace Switchboard.ApiServer.Tests.Kinds;

/// <summary>Defaults and checks of StatefulSets, DaemonSets, Jobs and CronJobs (upstream's SetDefaults_* and Validate*), without a server.</summary>
public sealed class WorkloadStrategyTests
{
    private static V1PodTemplateSpec Template(string restartPolicy) => new()
    {
        Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "work" } },
        Spec = new V1PodSpec { RestartPolicy = restartPolicy, Containers = [new V1Container { Name = "main", Image = "busybox" }] },
    };

    private static V1Job Job(V1JobSpec spec) => new() { Metadata = new V1ObjectMeta { Name = "work", Uid = "0f3c2a9e-uid" }, Spec = spec };

    private static (string Field, string? Detail)[] Problems(IEnumerable<FieldError> errors) => [.. errors.Select(e => (e.Field, e.Detail))];

    [Fact]
    public void A_job_defaults_to_one_completion_and_gets_a_selector_from_its_uid()
    {
        var strategy = new JobStrategy();
        var job = Job(new V1JobSpec { Template = Template("Never") });
        strategy.Default(job);

        Assert.Equal((1, 1, 6, "NonIndexed", false, "TerminatingOrFailed"), (job.Spec.Completions, job.Spec.Parallelism, job.Spec.BackoffLimit, job.Spec.CompletionMode, job.Spec.Suspend, job.Spec.PodReplacementPolicy));
        Assert.Equal(new Dictionary<string, string> { ["batch.kubernetes.io/controller-uid"] = "0f3c2a9e-uid" }, job.Spec.Selector.MatchLabels);
        Assert.Equal(
            new Dictionary<string, string> { ["app"] = "work", ["batch.kubernetes.io/controller-uid"] = "0f3c2a9e-uid", ["batch.kubernetes.io/job-name"] = "work", ["controller-uid"] = "0f3c2a9e-uid", ["job-name"] = "work" },
            job.Spec.Template.Metadata.Labels);
        Assert.Empty(strategy.Validate(job));

        // Only parallelism given: a work queue, completions stay unset.
        var queue = Job(new V1JobSpec { Parallelism = 3, Template = Template("Never") });
        strategy.Default(queue);
        Assert.Equal((null, 3), (queue.Spec.Completions, queue.Spec.Parallelism));
    }

    [Fact]
    public void A_job_refuses_a_hand_written_selector_an_Always_restart_and_an_indexed_mode_without_completions()
    {
        var strategy = new JobStrategy();
        var job = Job(new V1JobSpec
        {
            Parallelism = 2,
            CompletionMode = "Indexed",
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "work" } },
            Template = Template("Always"),
        });
        strategy.Default(job);

        Assert.Equal(
            [
                ("spec.template.spec.restartPolicy", "supported values: \"OnFailure\", \"Never\""),
                ("spec.completions", "when completion mode is Indexed"),
                ("spec.selector", "`selector` not auto-generated"),
            ],
            Problems(strategy.Validate(job)));
    }

    [Fact]
    public void Job_features_the_controller_does_not_carry_out_are_refused_by_name()
    {
        var strategy = new JobStrategy();
        var job = Job(new V1JobSpec { Completions = 2, CompletionMode = "Indexed", BackoffLimitPerIndex = 1, Template = Template("Never") });
        strategy.Default(job);

        Assert.Equal([("spec.backoffLimitPerIndex", "not supported by this cluster's job controller")], Problems(strategy.Validate(job)));
    }

    [Fact]
    public void A_running_jobs_template_and_completions_are_immutable_but_parallelism_is_not()
    {
        var strategy = new JobStrategy();
        var old = Job(new V1JobSpec { Completions = 3, Template = Template("Never") });
        strategy.Default(old);
        var scaled = Job(new V1JobSpec { Completions = 3, Parallelism = 3, Template = Template("Never") });
        strategy.Default(scaled);
        scaled.Spec.Selector = old.Spec.Selector;
        scaled.Spec.Template = old.Spec.Template;
        Assert.Empty(strategy.ValidateUpdate(scaled, old));

        var changed = Job(new V1JobSpec { Completions = 4, Template = Template("OnFailure") });
        strategy.Default(changed);
        Assert.Equal(["spec.template", "spec.completions"], strategy.ValidateUpdate(changed, old).Select(e => e.Field));
    }

    [Theory]
    [InlineData("61 * * * *", "spec.schedule", "end of range (61) above maximum (59): 61")]
    [InlineData("CRON_TZ=UTC 0 * * * *", "spec.schedule", "cannot use TZ or CRON_TZ in schedule, use timeZone field instead")]
    [InlineData("@every 1h", "spec.schedule", "unrecognized descriptor: @every 1h")]
    public void A_cronjob_schedule_is_parsed_as_the_controller_parses_it(string schedule, string field, string detail)
    {
        var strategy = new CronJobStrategy();
        var cronJob = new V1CronJob
        {
            Metadata = new V1ObjectMeta { Name = "nightly" },
            Spec = new V1CronJobSpec { Schedule = schedule, JobTemplate = new V1JobTemplateSpec { Spec = new V1JobSpec { Template = Template("OnFailure") } } },
        };
        strategy.Default(cronJob);

        Assert.Equal([(field, detail)], Problems(strategy.Validate(cronJob)));
    }

    [Fact]
    public void A_cronjob_needs_a_known_time_zone_and_a_short_enough_name()
    {
        var strategy = new CronJobStrategy();
        var cronJob = new V1CronJob
        {
            Metadata = new V1ObjectMeta { Name = new string('n', 53) },
            Spec = new V1CronJobSpec { Schedule = "@daily", TimeZone = "Mars/Olympus_Mons", JobTemplate = new V1JobTemplateSpec { Spec = new V1JobSpec { Template = Template("OnFailure") } } },
        };
        strategy.Default(cronJob);

        Assert.Equal(("Allow", false, 3, 1), (cronJob.Spec.ConcurrencyPolicy, cronJob.Spec.Suspend, cronJob.Spec.SuccessfulJobsHistoryLimit, cronJob.Spec.FailedJobsHistoryLimit));
        Assert.Equal(
            [("metadata.name", "must be no more than 52 characters"), ("spec.timeZone", "unknown time zone Mars/Olympus_Mons")],
            Problems(strategy.Validate(cronJob)));
    }

    [Fact]
    public void A_daemonset_update_may_not_have_both_maxUnavailable_and_maxSurge_zero()
    {
        var strategy = new DaemonSetStrategy();
        var ds = new V1DaemonSet
        {
            Metadata = new V1ObjectMeta { Name = "agent" },
            Spec = new V1DaemonSetSpec
            {
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "work" } },
                Template = Template("Always"),
                UpdateStrategy = new V1DaemonSetUpdateStrategy { Type = "RollingUpdate", RollingUpdate = new V1RollingUpdateDaemonSet { MaxUnavailable = 0 } },
            },
        };
        strategy.Default(ds);

        Assert.Equal([("spec.updateStrategy.rollingUpdate.maxUnavailable", "may not be 0 when `maxSurge` is 0")], Problems(strategy.Validate(ds)));
        ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge = "25%";
        Assert.Empty(strategy.Validate(ds));
    }

    [Fact]
    public void A_statefulset_update_may_change_replicas_and_template_but_not_its_service_name()
    {
        var strategy = new StatefulSetStrategy();
        V1StatefulSet Set(string service, int replicas) => new()
        {
            Metadata = new V1ObjectMeta { Name = "web" },
            Spec = new V1StatefulSetSpec
            {
                ServiceName = service,
                Replicas = replicas,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "work" } },
                Template = Template("Always"),
            },
        };
        var old = Set("nginx", 2);
        strategy.Default(old);
        var scaled = Set("nginx", 5);
        strategy.Default(scaled);
        Assert.Equal(("OrderedReady", "RollingUpdate", 0, "Retain"), (old.Spec.PodManagementPolicy, old.Spec.UpdateStrategy.Type, old.Spec.UpdateStrategy.RollingUpdate.Partition, old.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted));
        Assert.Empty(strategy.ValidateUpdate(scaled, old));

        var renamed = Set("other", 2);
        strategy.Default(renamed);
        var error = Assert.Single(strategy.ValidateUpdate(renamed, old));
        Assert.Equal("spec", error.Field);
        Assert.StartsWith("updates to statefulset spec for fields other than 'replicas'", error.Detail, StringComparison.Ordinal);
    }
}
