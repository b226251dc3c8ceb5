using Switchboard.Proxy.Model;

namespace Switchboard.Proxy;

/// <summary>One proxy mode's data plane in the node's namespace: brought to the desired service ports on every sync.</summary>
internal interface IProxier : IDisposable
{
    /// <summary>
    /// Programs <paramref name="desired"/>, the complete list of service ports this node serves. A failure leaves the
    /// proxier to make its next sync a full one.
    /// </summary>
    Task<ProxySyncResult> SyncAsync(IReadOnlyList<ServicePortState> desired, CancellationToken cancellationToken);
}
