using k8s.Models;
using Switchboard.Controllers.Shared;
using Switchboard.Kube.Informers;
using Switchboard.Kube.Selectors;

namespace Switchboard.Controllers.Endpoints;

/// <summary>
/// Tells the Endpoints and EndpointSlice controllers which services to sync: a service's key when it changes, and
/// every selecting service when one of its pods changes in a way endpoints show (upstream's podEndpointsChanged); a
/// pod without an IP is in no endpoints, so creating and binding a pod costs the endpoint controllers nothing. One
/// instance serves both controllers, so each pod event looks its services up once.
/// </summary>
internal sealed class EndpointTriggers
{
    private readonly SharedInformers _informers;
    private Action<string>[] _subscribers = [];

    public EndpointTriggers(SharedInformers informers)
    {
        _informers = informers;
        informers.Services.AddHandler(s => Enqueue(ObjectKey.Of(s)), (_, s) => Enqueue(ObjectKey.Of(s)), s => Enqueue(ObjectKey.Of(s)));
        informers.Pods.AddHandler(PodChanged, (old, pod) =>
        {
            if (ReferenceEquals(old, pod))
            {
                // A resync: look at every service again.
                PodChanged(pod);
                return;
            }

            bool sameLabels = LabelSets.SameLabels(old.Metadata.Labels, pod.Metadata.Labels);
            if (!sameLabels)
            {
                PodChanged(old);
            }

            if (!sameLabels || EndpointChanged(old, pod))
            {
                PodChanged(pod);
                if (sameLabels && string.IsNullOrEmpty(pod.Status?.PodIP))
                {
                    // The pod lost its address: the services that listed it have to drop it.
                    PodChanged(old);
                }
            }
        }, PodChanged);
    }

    /// <summary>Adds a controller's enqueue; called while the controllers are built, before the informers run.</summary>
    public void Subscribe(Action<string> enqueue) => _subscribers = [.. _subscribers, enqueue];

    /// <summary>Whether what the pod's endpoint looks like (address, readiness, lifecycle, placement, name) differs.</summary>
    private static bool EndpointChanged(V1Pod old, V1Pod pod) =>
        old.Status?.PodIP != pod.Status?.PodIP
        || Objects.IsReady(old) != Objects.IsReady(pod)
        || Objects.IsTerminal(old) != Objects.IsTerminal(pod)
        || (old.Metadata.DeletionTimestamp is null) != (pod.Metadata.DeletionTimestamp is null)
        || old.Spec?.NodeName != pod.Spec?.NodeName
        || old.Spec?.Hostname != pod.Spec?.Hostname
        || old.Spec?.Subdomain != pod.Spec?.Subdomain;

    private void PodChanged(V1Pod pod)
    {
        if (string.IsNullOrEmpty(pod.Status?.PodIP))
        {
            return;
        }

        // A selecting service has one of the pod's labels in its selector: look only at those.
        var services = _informers.Services.Cache;
        foreach (var service in LabelSets.IndexValues(pod.Metadata.Labels).SelectMany(pair => services.ByIndex(SharedInformers.SelectorIndex, pair)).Distinct())
        {
            if (service.Metadata.NamespaceProperty == pod.Metadata.NamespaceProperty && LabelSelector.MatchesNonEmpty(service.Spec?.Selector, pod.Metadata.Labels))
            {
                Enqueue(ObjectKey.Of(service));
            }
        }
    }

    private void Enqueue(string serviceKey)
    {
        foreach (var enqueue in _subscribers)
        {
            enqueue(serviceKey);
        }
    }
}
