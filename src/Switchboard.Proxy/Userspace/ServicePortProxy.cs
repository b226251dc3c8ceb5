using System.Net;
using Microsoft.Extensions.Logging;
using Switchboard.Kube.Networking;
using Switchboard.Proxy.Model;

namespace Switchboard.Proxy.Userspace;

/// <summary>
/// The userspace proxy of one service port: its endpoint picker and its frontends, the cluster IP's and, for a
/// NodePort service, one on the node's addresses. Frontends are open only while there are endpoints, so a client of a
/// service without any is refused by the kernel at once (TCP reset, ICMP port unreachable).
/// </summary>
internal sealed class ServicePortProxy : IDisposable
{
    private readonly NetnsDialer _sockets;
    private readonly UserspaceOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly EndpointPicker _picker;
    private readonly List<IFrontend> _frontends = [];

    public ServicePortProxy(ServicePortState state, NetnsDialer sockets, UserspaceOptions options, TimeProvider time, ILogger logger)
    {
        State = state;
        _sockets = sockets;
        _options = options;
        _time = time;
        _logger = logger;
        _picker = new EndpointPicker(time, options.Random);
    }

    /// <summary>What this proxy serves now.</summary>
    public ServicePortState State { get; private set; }

    /// <summary>
    /// Brings the proxy to <paramref name="state"/>, which has this port's cluster IP, port, protocol and NodePort:
    /// takes the new endpoints and affinity, opens the frontends if endpoints appeared, closes them if none are left.
    /// A frontend that failed to open earlier is opened again.
    /// </summary>
    public async Task ApplyAsync(ServicePortState state)
    {
        State = state;
        _picker.Update(state.Endpoints, state.AffinitySeconds);
        if (!state.HasEndpoints)
        {
            CloseFrontends();
            return;
        }

        if (_frontends.Count > 0)
        {
            foreach (var frontend in _frontends)
            {
                frontend.EndpointsChanged();
            }

            return;
        }

        try
        {
            _frontends.Add(await OpenAsync(new IPEndPoint(IPAddress.Parse(state.ClusterIp), state.Port)));
            if (state.NodePort > 0)
            {
                // On every address of the node, as kube-proxy's NodePorts are.
                _frontends.Add(await OpenAsync(new IPEndPoint(IPAddress.Any, state.NodePort)));
            }
        }
        catch
        {
            CloseFrontends();
            throw;
        }
    }

    /// <summary>Whether <paramref name="state"/> can be applied to this proxy, or needs a new one (other address, port or protocol).</summary>
    public bool SameAddresses(ServicePortState state) =>
        State.ClusterIp == state.ClusterIp && State.Port == state.Port && State.Protocol == state.Protocol && State.NodePort == state.NodePort;

    public void Dispose() => CloseFrontends();

    private async Task<IFrontend> OpenAsync(IPEndPoint address) => State.Protocol switch
    {
        "tcp" => await TcpFrontend.OpenAsync(address, State.Name, _picker, _sockets, _logger, _options.Trace),
        "udp" => await UdpFrontend.OpenAsync(address, State.Name, _picker, _sockets, _time, _options.UdpIdleTimeout, _logger),
        _ => throw new NotSupportedException($"the userspace proxy relays TCP and UDP, not {State.Protocol} ({State.Name})"),
    };

    private void CloseFrontends()
    {
        foreach (var frontend in _frontends)
        {
            frontend.Dispose();
        }

        _frontends.Clear();
    }
}
