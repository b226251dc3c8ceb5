using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Serialization;

namespace Switchboard.Controllers.Accounts;

/// <summary>
/// kube-controller-manager's root-ca-cert-publisher: every namespace has a ConfigMap <c>kube-root-ca.crt</c> whose
/// <c>ca.crt</c> is the CA pods verify the API server with (the projected service-account volume mounts it), made again
/// when deleted and put back when edited.
/// </summary>
internal sealed class RootCaPublisher : QueueController
{
    public const string DataKey = "ca.crt";

    public const string DescriptionAnnotation = "kubernetes.io/description";

    /// <summary>Upstream's description of the ConfigMap, word for word.</summary>
    public const string Description = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

    private readonly string _rootCa;

    public RootCaPublisher(ControllerContext context, string rootCa)
        : base(context, "root_ca_cert_publisher")
    {
        _rootCa = rootCa;
        context.Informers.Namespaces.AddHandler(ns => Queue.Add(ns.Metadata.Name), (_, ns) => Queue.Add(ns.Metadata.Name));
        context.Informers.RootCaConfigMaps.AddHandler(onUpdate: (_, cm) => Queue.Add(cm.Metadata.NamespaceProperty), onDelete: cm => Queue.Add(cm.Metadata.NamespaceProperty));
    }

    protected override async Task SyncAsync(string key, CancellationToken cancellationToken)
    {
        var ns = Context.Informers.Namespaces.Cache.Get(key);
        if (ns is null || ns.Metadata.DeletionTimestamp is not null)
        {
            return;
        }

        var data = new Dictionary<string, string> { [DataKey] = _rootCa };
        var existing = Context.Informers.RootCaConfigMaps.Cache.Get(key + "/" + SharedInformers.RootCaConfigMapName);
        try
        {
            if (existing is null)
            {
                var created = new V1ConfigMap
                {
                    Metadata = new V1ObjectMeta { Name = SharedInformers.RootCaConfigMapName, Annotations = new Dictionary<string, string> { [DescriptionAnnotation] = Description } },
                    Data = data,
                };
                await Context.Client.CoreV1.CreateNamespacedConfigMapAsync(created, key, cancellationToken: cancellationToken);
                return;
            }

            bool sameData = existing.Data is { Count: 1 } current && current.TryGetValue(DataKey, out string? value) && value == _rootCa && existing.BinaryData is not { Count: > 0 };
            if (sameData && existing.Metadata.Annotations?.ContainsKey(DescriptionAnnotation) == true)
            {
                return;
            }

            // Everything else the object carries (labels, other annotations) stays, as upstream keeps it.
            existing = ModelJson.Clone(existing);
            existing.Data = data;
            existing.BinaryData = null;
            existing.Metadata.Annotations ??= new Dictionary<string, string>();
            existing.Metadata.Annotations[DescriptionAnnotation] = Description;
            await Context.Client.CoreV1.ReplaceNamespacedConfigMapAsync(existing, existing.Metadata.Name, key, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.Forbidden or HttpStatusCode.NotFound && existing is null)
        {
            // Made meanwhile (409), or the namespace began to go away (403 while it terminates, 404 once gone).
        }
    }
}
