using System.Text.Json.Nodes;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.Kube.Pods;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// pods/eviction (a policy/v1 Eviction POSTed to the pod), as kube-apiserver's EvictionREST: a pod that is pending,
/// finished or already being deleted is deleted outright; otherwise the one PodDisruptionBudget covering it must allow
/// a disruption, which the eviction takes (status.disruptionsAllowed down by one, the pod recorded in disruptedPods
/// for the disruption controller) before the pod is deleted with the eviction's DeleteOptions. A budget that allows
/// none is 429 TooManyRequests, which kubectl drain retries.
/// </summary>
internal sealed class EvictionHandler(ResourceStore<V1Pod> pods, ResourceStore<V1PodDisruptionBudget> budgets, RegistryContext context)
{
    public const string Subresource = "eviction";

    /// <summary>kube-apiserver's MaxDisruptedPodSize: evictions the controller has not confirmed yet, per budget.</summary>
    private const int MaxDisruptedPods = 2000;

    private const string Violation = "Cannot evict pod as it would violate the pod's disruption budget.";

    public async Task EvictAsync(HttpContext http, string ns, string name)
    {
        if (http.Request.Method != "POST")
        {
            throw ApiException.MethodNotAllowed(http.Request.Method, "pods/eviction");
        }

        var body = await RequestBody.ReadAsync(http) as JsonObject ?? throw ApiException.BadRequest("the body of the request is not an Eviction object");
        string? kind = body["kind"]?.ToString();
        string? apiVersion = body["apiVersion"]?.ToString();
        if ((kind is { Length: > 0 } && kind != "Eviction") || (apiVersion is { Length: > 0 } and not ("policy/v1" or "policy/v1beta1")))
        {
            throw ApiException.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version (policy/v1)");
        }

        if (body["metadata"]?["name"]?.ToString() != name)
        {
            throw ApiException.BadRequest("name in URL does not match name in Eviction object");
        }

        if (body["metadata"]?["namespace"]?.ToString() is { Length: > 0 } bodyNamespace && bodyNamespace != ns)
        {
            throw ApiException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
        }

        var options = WriteHandler<V1Pod>.DeleteRequestOf(http, body["deleteOptions"]);
        var pod = await pods.GetAsync(ns, name, http.RequestAborted);
        bool charged = await ChargeBudgetAsync(pod, options.DryRun, http.RequestAborted);

        // A pod deleted without charging a budget goes only as it was read (upstream adds its resourceVersion as a precondition).
        await pods.DeleteAsync(ns, name, charged ? options : options with { PreconditionResourceVersion = options.PreconditionResourceVersion ?? pod.Metadata.ResourceVersion }, http.RequestAborted);

        await ApiJson.WriteStatusAsync(http, new V1Status { Status = "Success", Code = StatusCodes.Status201Created });
    }

    /// <summary>Throws unless the pod may go; whether a budget was charged for it.</summary>
    private async Task<bool> ChargeBudgetAsync(V1Pod pod, bool dryRun, CancellationToken cancellationToken)
    {
        string ns = pod.Metadata.NamespaceProperty;
        if (pod.Status?.Phase is "Succeeded" or "Failed" or "Pending" || pod.Metadata.DeletionTimestamp is not null)
        {
            return false;
        }

        var covering = (await budgets.ListAsync(ns, Kube.Selectors.LabelSelector.Everything, Selectors.FieldSelector.Everything, 0, null, 0, cancellationToken))
            .Items.Where(b => DisruptionBudgets.Covers(b, pod)).ToList();
        if (covering.Count == 0)
        {
            return false;
        }

        if (covering.Count > 1)
        {
            throw ApiException.Internal("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
        }

        var budget = covering[0];
        if (!DisruptionBudgets.IsReady(pod))
        {
            var status = budget.Status ?? new V1PodDisruptionBudgetStatus();
            if (budget.Spec?.UnhealthyPodEvictionPolicy == DisruptionBudgets.AlwaysAllow
                || (status.CurrentHealthy >= status.DesiredHealthy && status.DesiredHealthy > 0))
            {
                return false;
            }
        }

        await budgets.UpdateWithAsync(ns, budget.Metadata.Name, null, current => Charge(current, pod.Metadata.Name, dryRun), "status", dryRun, cancellationToken);
        return true;
    }

    /// <summary>checkAndDecrement: one disruption taken from the budget, or the reason none can be.</summary>
    private V1PodDisruptionBudget Charge(V1PodDisruptionBudget budget, string pod, bool dryRun)
    {
        var status = budget.Status ??= new V1PodDisruptionBudgetStatus();
        string name = budget.Metadata.Name;
        if ((status.ObservedGeneration ?? 0) < (budget.Metadata.Generation ?? 0))
        {
            throw ApiException.TooManyRequests(Violation, Cause($"The disruption budget {name} is still being processed by the server."));
        }

        if (status.DisruptionsAllowed < 0)
        {
            throw ApiException.Forbidden("poddisruptionbudgets", name, "pdb disruptions allowed is negative", "policy");
        }

        if (status.DisruptedPods?.Count > MaxDisruptedPods)
        {
            throw ApiException.Forbidden("poddisruptionbudgets", name, "DisruptedPods map too big - too many evictions not confirmed by PDB controller", "policy");
        }

        if (status.DisruptionsAllowed == 0)
        {
            throw ApiException.TooManyRequests(Violation, Cause($"The disruption budget {name} needs {status.DesiredHealthy} healthy pods and has {status.CurrentHealthy} currently"));
        }

        // Unpinned: a budget changed meanwhile is read again and checked again, as upstream retries on a conflict.
        budget.Metadata.ResourceVersion = null;
        status.DisruptionsAllowed--;
        if (status.DisruptionsAllowed == 0)
        {
            DisruptionBudgets.SetDisruptionAllowed(status, status.ObservedGeneration, context.Now());
        }

        if (!dryRun)
        {
            status.DisruptedPods ??= new Dictionary<string, DateTime?>();
            status.DisruptedPods[pod] = context.Now();
        }

        return budget;
    }

    private static V1StatusCause Cause(string message) => new() { Reason = "DisruptionBudget", Message = message };
}
