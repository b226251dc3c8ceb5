using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.Controllers.Shared;

namespace Switchboard.Controllers.Accounts;

/// <summary>
/// kube-controller-manager's service-account controller: every namespace that is not being deleted has a
/// <c>default</c> ServiceAccount, made again when it is deleted, so pods that name none have one to run as.
/// </summary>
internal sealed class ServiceAccountController : QueueController
{
    public const string DefaultName = "default";

    public ServiceAccountController(ControllerContext context)
        : base(context, "serviceaccount")
    {
        context.Informers.Namespaces.AddHandler(ns => Queue.Add(ns.Metadata.Name), (_, ns) => Queue.Add(ns.Metadata.Name));
        context.Informers.ServiceAccounts.AddHandler(onDelete: account =>
        {
            if (account.Metadata.Name == DefaultName)
            {
                Queue.Add(account.Metadata.NamespaceProperty);
            }
        });
    }

    protected override async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        var ns = Context.Informers.Namespaces.Cache.Get(key);
        if (ns is null || ns.Metadata.DeletionTimestamp is not null || ns.Status?.Phase == "Terminating"
            || Context.Informers.ServiceAccounts.Cache.Get(key + "/" + DefaultName) is not null)
        {
            return;
        }

        try
        {
            await Context.Client.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = DefaultName } }, key, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.Forbidden or HttpStatusCode.NotFound)
        {
            // Made meanwhile (409), or the namespace began to go away (403 while it terminates, 404 once gone).
        }
    }
}
