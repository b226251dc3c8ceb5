namespace Switchboard.Proxy.Userspace;

/// <summary>One socket a service port is reached on (its cluster IP, or the node's NodePort), open while the port has endpoints.</summary>
internal interface IFrontend : IDisposable
{
    /// <summary>The service port's endpoints changed (none of them gone to zero: then the frontend is closed instead).</summary>
    void EndpointsChanged();
}
