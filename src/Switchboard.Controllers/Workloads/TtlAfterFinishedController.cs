using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Informers;

namespace Switchboard.Controllers.Workloads;

/// <summary>
/// upstream's ttl-after-finished controller: a finished Job with spec.ttlSecondsAfterFinished is deleted (Foreground,
/// so its pods go first) that many seconds after its Complete or Failed condition, on the controllers' clock. The
/// delete is conditional on the version it judged, so a TTL changed meanwhile is judged again.
/// </summary>
internal sealed class TtlAfterFinishedController : QueueController
{
    public TtlAfterFinishedController(ControllerContext context)
        : base(context, "ttl_jobs_to_delete")
    {
        context.Informers.Jobs.AddHandler(Enqueue, (_, job) => Enqueue(job));
    }

    /// <summary>When a finished Job's TTL runs out, or null when it has none or is not finished.</summary>
    public static DateTimeOffset? ExpiresAt(V1Job job)
    {
        if (job.Spec?.TtlSecondsAfterFinished is not { } ttl || !JobController.IsFinished(job))
        {
            return null;
        }

        var finished = job.Status?.CompletionTime
            ?? job.Status?.Conditions?.Where(c => c.Type is "Complete" or "Failed" && c.Status == "True").Select(c => c.LastTransitionTime).Max();
        return finished is { } at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) + TimeSpan.FromSeconds(ttl) : null;
    }

    protected override async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        var job = Context.Informers.Jobs.Cache.Get(key);
        if (job is null || job.Metadata.DeletionTimestamp is not null || ExpiresAt(job) is not { } expires)
        {
            return;
        }

        var now = Context.Time.GetUtcNow();
        if (now < expires)
        {
            Queue.AddAfter(key, expires - now);
            return;
        }

        try
        {
            await Context.Client.BatchV1.DeleteNamespacedJobAsync(job.Metadata.Name, job.Metadata.NamespaceProperty,
                new V1DeleteOptions { PropagationPolicy = "Foreground", Preconditions = new V1Preconditions { Uid = job.Metadata.Uid, ResourceVersion = job.Metadata.ResourceVersion } },
                cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            // Gone already, or changed since: a change comes back through the informer.
        }
    }

    private void Enqueue(V1Job job)
    {
        if (job.Metadata.DeletionTimestamp is null && ExpiresAt(job) is not null)
        {
            Queue.Add(ObjectKey.Of(job));
        }
    }
}
