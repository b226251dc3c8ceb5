using System.Net;
using k8s.Models;
using Switchboard.ApiServer.Allocation;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;
using Switchboard.ApiServer.Validation;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Kinds;

/// <summary>Services: upstream defaults and validation, ClusterIP and NodePort allocation.</summary>
internal sealed class ServiceStrategy : ResourceStrategy<V1Service>
{
    private static readonly IReadOnlyList<TableColumn<V1Service>> Table =
    [
        Columns.Name<V1Service>(),
        new("Type", "string", 0, (s, _) => s.Spec?.Type, "", "The type of service."),
        new("Cluster-IP", "string", 0, (s, _) => Columns.OrNone(s.Spec?.ClusterIP), "", "The cluster IP of the service."),
        new("External-IP", "string", 0, (s, _) => ExternalIps(s), "", "The external IPs of the service."),
        new("Port(s)", "string", 0, (s, _) => Ports(s), "", "The ports of the service."),
        Columns.Age<V1Service>(),
        new("Selector", "string", 1, (s, _) => Columns.Selector(s.Spec?.Selector), "", "The label selector of the service."),
    ];

    private readonly ClusterIpRange _range;
    private readonly RangeAllocator _clusterIps;
    private readonly RangeAllocator _nodePorts;
    private readonly int _nodePortBase;

    public ServiceStrategy(ClusterIpRange range, RangeAllocator clusterIps, RangeAllocator nodePorts, int nodePortBase)
    {
        _range = range;
        _clusterIps = clusterIps;
        _nodePorts = nodePorts;
        _nodePortBase = nodePortBase;
    }

    public override NameRule NameRule => NameRule.Dns1035Label;

    public override IReadOnlyList<TableColumn<V1Service>> TableColumns => Table;

    public override void Default(V1Service obj)
    {
        var spec = obj.Spec ??= new V1ServiceSpec();
        spec.Type ??= "ClusterIP";
        spec.SessionAffinity ??= "None";
        if (spec.SessionAffinity == "ClientIP")
        {
            spec.SessionAffinityConfig ??= new V1SessionAffinityConfig();
            spec.SessionAffinityConfig.ClientIP ??= new V1ClientIPConfig();
            spec.SessionAffinityConfig.ClientIP.TimeoutSeconds ??= 10800;
        }
        else
        {
            spec.SessionAffinityConfig = null;
        }

        foreach (var port in spec.Ports ?? [])
        {
            port.Protocol ??= "TCP";
            if (port.TargetPort is null || port.TargetPort.Value is null or "" or "0")
            {
                port.TargetPort = port.Port;
            }
        }

        if (spec.Type is "NodePort" or "LoadBalancer")
        {
            spec.ExternalTrafficPolicy ??= "Cluster";
        }

        if (spec.Type != "ExternalName")
        {
            spec.InternalTrafficPolicy ??= "Cluster";
        }

        if (spec.Type == "LoadBalancer")
        {
            spec.AllocateLoadBalancerNodePorts ??= true;
        }

        obj.Status ??= new V1ServiceStatus { LoadBalancer = new V1LoadBalancerStatus() };
        obj.Status.LoadBalancer ??= new V1LoadBalancerStatus();
    }

    public override IEnumerable<FieldError> Validate(V1Service obj)
    {
        var spec = obj.Spec!;
        string[] types = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];
        if (!types.Contains(spec.Type))
        {
            yield return FieldError.NotSupported("spec.type", spec.Type, types);
        }

        if (spec.SessionAffinity is not ("None" or "ClientIP"))
        {
            yield return FieldError.NotSupported("spec.sessionAffinity", spec.SessionAffinity, "ClientIP", "None");
        }

        bool headless = spec.ClusterIP == "None";
        if (spec.Type == "ExternalName")
        {
            if (string.IsNullOrEmpty(spec.ExternalName))
            {
                yield return FieldError.Required("spec.externalName");
            }
        }
        else if ((spec.Ports is null || spec.Ports.Count == 0) && !headless)
        {
            yield return FieldError.Required("spec.ports");
        }

        if (headless && spec.Type is "NodePort" or "LoadBalancer")
        {
            yield return FieldError.Invalid("spec.clusterIPs[0]", "None", $"may not be set to 'None' for {spec.Type} services");
        }

        if (!string.IsNullOrEmpty(spec.ClusterIP) && !headless && !IPAddress.TryParse(spec.ClusterIP, out _))
        {
            yield return FieldError.Invalid("spec.clusterIPs[0]", spec.ClusterIP, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
        }

        var ports = spec.Ports ?? [];
        var names = new HashSet<string>();
        var keys = new HashSet<(int, string)>();
        for (int i = 0; i < ports.Count; i++)
        {
            var port = ports[i];
            string path = $"spec.ports[{i}]";
            if (ports.Count > 1 && string.IsNullOrEmpty(port.Name))
            {
                yield return FieldError.Required(path + ".name");
            }
            else if (!string.IsNullOrEmpty(port.Name))
            {
                foreach (string message in NameValidation.Label(port.Name))
                {
                    yield return FieldError.Invalid(path + ".name", port.Name, message);
                }

                if (!names.Add(port.Name))
                {
                    yield return FieldError.Duplicate(path + ".name", port.Name);
                }
            }

            if (port.Port is < 1 or > 65535)
            {
                yield return FieldError.Invalid(path + ".port", port.Port, "must be between 1 and 65535, inclusive");
            }

            if (port.Protocol is not ("TCP" or "UDP" or "SCTP"))
            {
                yield return FieldError.NotSupported(path + ".protocol", port.Protocol, "SCTP", "TCP", "UDP");
            }
            else if (!keys.Add((port.Port, port.Protocol)))
            {
                yield return FieldError.Duplicate(path, new LiteralValue($"core.ServicePort{{Name:\"{port.Name}\", Protocol:\"{port.Protocol}\", Port:{port.Port}}}"));
            }

            if (port.TargetPort is { } target && int.TryParse(target.Value, out int targetNumber) && targetNumber is < 1 or > 65535)
            {
                yield return FieldError.Invalid(path + ".targetPort", targetNumber, "must be between 1 and 65535, inclusive");
            }

            if (port.NodePort is { } nodePort && nodePort != 0)
            {
                if (spec.Type is not ("NodePort" or "LoadBalancer"))
                {
                    yield return FieldError.Forbidden(path + ".nodePort", "may not be used when `type` is 'ClusterIP'");
                }
                else if (nodePort < _nodePortBase || nodePort >= _nodePortBase + _nodePorts.Size)
                {
                    yield return FieldError.Invalid(path + ".nodePort", nodePort, $"provided port is not in the valid range. The range of valid ports is {_nodePortBase}-{_nodePortBase + _nodePorts.Size - 1}");
                }
            }
        }
    }

    public override IEnumerable<FieldError> ValidateUpdate(V1Service obj, V1Service old)
    {
        foreach (var error in Validate(obj))
        {
            yield return error;
        }

        bool externalNameInvolved = obj.Spec.Type == "ExternalName" || old.Spec.Type == "ExternalName";
        if (!externalNameInvolved && !string.IsNullOrEmpty(obj.Spec.ClusterIP) && obj.Spec.ClusterIP != old.Spec.ClusterIP)
        {
            yield return FieldError.Invalid("spec.clusterIPs[0]", obj.Spec.ClusterIP, "may not change once set");
        }
    }

    public override async Task PrepareCreateAsync(V1Service obj, bool dryRun, CancellationToken cancellationToken)
    {
        var taken = new List<(RangeAllocator, int)>();
        try
        {
            // A real create takes its ClusterIP in the transaction that stores it (StoreCreateAsync).
            if (dryRun)
            {
                await AllocateClusterIpAsync(obj, taken, dryRun, cancellationToken);
            }
            else
            {
                TakesClusterIp(obj, out _);
            }

            await AllocateNodePortsAsync(obj, null, taken, dryRun, cancellationToken);
        }
        catch
        {
            await ReleaseAllAsync(taken);
            throw;
        }
    }

    public override async Task PrepareUpdateAsync(V1Service obj, V1Service old, bool dryRun, CancellationToken cancellationToken)
    {
        var taken = new List<(RangeAllocator, int)>();
        try
        {
            await ReallocateAsync(obj, old, taken, dryRun, cancellationToken);
        }
        catch
        {
            await ReleaseAllAsync(taken);
            throw;
        }
    }

    private async Task ReallocateAsync(V1Service obj, V1Service old, List<(RangeAllocator, int)> taken, bool dryRun, CancellationToken cancellationToken)
    {
        var spec = obj.Spec;
        if (spec.Type == "ExternalName")
        {
            spec.ClusterIP = null;
            spec.ClusterIPs = null;
            spec.IpFamilies = null;
            spec.IpFamilyPolicy = null;
        }
        else if (string.IsNullOrEmpty(spec.ClusterIP) && old.Spec.Type != "ExternalName")
        {
            // An update that leaves the address out keeps the allocated one (as kube-apiserver does).
            spec.ClusterIP = old.Spec.ClusterIP;
            spec.ClusterIPs = old.Spec.ClusterIPs;
            spec.IpFamilies = old.Spec.IpFamilies;
            spec.IpFamilyPolicy = old.Spec.IpFamilyPolicy;
        }
        else if (string.IsNullOrEmpty(spec.ClusterIP) || old.Spec.Type == "ExternalName")
        {
            await AllocateClusterIpAsync(obj, taken, dryRun, cancellationToken);
        }

        await AllocateNodePortsAsync(obj, old, taken, dryRun, cancellationToken);
    }

    /// <summary>Stores the Service and takes its ClusterIP in one transaction, when it has one to take.</summary>
    public override async Task<KeyValue> StoreCreateAsync(IKeyValueStore store, string key, V1Service obj, CancellationToken cancellationToken)
    {
        var spec = obj.Spec;
        if (!TakesClusterIp(obj, out int? requested))
        {
            return await base.StoreCreateAsync(store, key, obj, cancellationToken);
        }

        string? asked = spec.ClusterIP;
        var askedIps = spec.ClusterIPs;
        try
        {
            var created = await _clusterIps.TakeAndCreateAsync(requested, key, slot =>
            {
                spec.ClusterIP = _range.AddressAt(slot).ToString();
                spec.ClusterIPs = [spec.ClusterIP];
                return ObjectCodec.Encode(obj);
            });
            return created?.Created ?? throw (requested is null
                ? ClusterIpError(obj, "", "range is full")
                : ClusterIpError(obj, asked!, "provided IP is already allocated"));
        }
        catch (StorageException)
        {
            // Nothing was stored or taken: a retry (a generated name) starts from what was asked.
            spec.ClusterIP = asked;
            spec.ClusterIPs = askedIps;
            throw;
        }
    }

    /// <summary>Deletes the Service and releases its ClusterIP in one transaction.</summary>
    public override Task<DeleteResult> StoreDeleteAsync(IKeyValueStore store, string key, V1Service obj, long modRevision, CancellationToken cancellationToken) =>
        ClusterIpSlots(obj) is [int slot]
            ? _clusterIps.ReleaseAndDeleteAsync(slot, key, modRevision)
            : base.StoreDeleteAsync(store, key, obj, modRevision, cancellationToken);

    public override async Task RollbackAsync(V1Service obj, V1Service? old, CancellationToken cancellationToken)
    {
        // A create's ClusterIP is taken only with the stored Service (and a delete's released with it): nothing to undo.
        if (old is not null)
        {
            foreach (int index in ClusterIpSlots(obj).Except(ClusterIpSlots(old)))
            {
                await _clusterIps.ReleaseAsync(index, cancellationToken);
            }
        }

        foreach (int port in NodePorts(obj).Except(old is null ? [] : NodePorts(old)))
        {
            await _nodePorts.ReleaseAsync(port - _nodePortBase, cancellationToken);
        }
    }

    public override Task AfterUpdateAsync(V1Service obj, V1Service old, CancellationToken cancellationToken) =>
        RollbackAsync(old, obj, cancellationToken);

    public override Task ReleaseAsync(V1Service obj, CancellationToken cancellationToken) =>
        RollbackAsync(obj, null, cancellationToken);

    private static string ExternalIps(V1Service s)
    {
        var ips = new List<string>();
        ips.AddRange(s.Status?.LoadBalancer?.Ingress?.Select(i => i.Ip ?? i.Hostname).OfType<string>() ?? []);
        ips.AddRange(s.Spec?.ExternalIPs ?? []);
        if (s.Spec?.Type == "ExternalName")
        {
            return s.Spec.ExternalName ?? "<none>";
        }

        return ips.Count > 0 ? string.Join(",", ips) : s.Spec?.Type == "LoadBalancer" ? "<pending>" : "<none>";
    }

    private static string Ports(V1Service s)
    {
        var ports = s.Spec?.Ports ?? [];
        return ports.Count == 0
            ? "<none>"
            : string.Join(",", ports.Select(p => p.NodePort is > 0 ? $"{p.Port}:{p.NodePort}/{p.Protocol}" : $"{p.Port}/{p.Protocol}"));
    }

    private static IEnumerable<int> NodePorts(V1Service s) =>
        (s.Spec?.Ports ?? []).Select(p => p.NodePort ?? 0).Where(p => p != 0);

    private int[] ClusterIpSlots(V1Service s) =>
        s.Spec?.ClusterIP is { } ip && IPAddress.TryParse(ip, out var address) && _range.IndexOf(address) is { } index ? [index] : [];

    private static async Task ReleaseAllAsync(List<(RangeAllocator Allocator, int Slot)> taken)
    {
        foreach (var (allocator, slot) in taken)
        {
            await allocator.ReleaseAsync(slot, CancellationToken.None);
        }
    }

    /// <summary>
    /// Whether the Service takes a ClusterIP (not ExternalName, not headless), with its families set; then
    /// <paramref name="requested"/> is the slot it asks for (null: any free one), checked to be in the range.
    /// </summary>
    private bool TakesClusterIp(V1Service obj, out int? requested)
    {
        var spec = obj.Spec;
        requested = null;
        if (spec.Type == "ExternalName")
        {
            spec.ClusterIP = null;
            spec.ClusterIPs = null;
            return false;
        }

        spec.IpFamilies = ["IPv4"];
        spec.IpFamilyPolicy ??= "SingleStack";
        if (spec.ClusterIP == "None")
        {
            spec.ClusterIPs = ["None"];
            return false;
        }

        if (!string.IsNullOrEmpty(spec.ClusterIP))
        {
            string ip = spec.ClusterIP;
            requested = _range.IndexOf(IPAddress.Parse(ip))
                ?? throw ClusterIpError(obj, ip, $"the provided IP ({ip}) is not in the valid range. The range of valid IPs is {_range.Text}");
        }

        return true;
    }

    private async Task AllocateClusterIpAsync(V1Service obj, List<(RangeAllocator, int)> taken, bool dryRun, CancellationToken cancellationToken)
    {
        if (!TakesClusterIp(obj, out int? requested))
        {
            return;
        }

        var spec = obj.Spec;
        int index;
        if (requested is { } wanted)
        {
            if (!await _clusterIps.TryAllocateAsync(wanted, dryRun, cancellationToken))
            {
                throw ClusterIpError(obj, spec.ClusterIP!, "provided IP is already allocated");
            }

            index = wanted;
        }
        else
        {
            index = await _clusterIps.AllocateNextAsync(dryRun, cancellationToken)
                ?? throw ClusterIpError(obj, "", "range is full");
        }

        if (!dryRun)
        {
            taken.Add((_clusterIps, index));
        }

        spec.ClusterIP = _range.AddressAt(index).ToString();
        spec.ClusterIPs = [spec.ClusterIP];
    }

    private async Task AllocateNodePortsAsync(V1Service obj, V1Service? old, List<(RangeAllocator, int)> taken, bool dryRun, CancellationToken cancellationToken)
    {
        var spec = obj.Spec;
        if (spec.Type is not ("NodePort" or "LoadBalancer") || (spec.Type == "LoadBalancer" && spec.AllocateLoadBalancerNodePorts == false))
        {
            foreach (var port in spec.Ports ?? [])
            {
                port.NodePort = null;
            }

            return;
        }

        var held = new HashSet<int>(old is null ? [] : NodePorts(old));
        for (int i = 0; i < spec.Ports.Count; i++)
        {
            var port = spec.Ports[i];
            if (port.NodePort is null or 0 && old?.Spec.Ports?.FirstOrDefault(p => p.Port == port.Port && p.Protocol == port.Protocol)?.NodePort is { } kept and > 0)
            {
                port.NodePort = kept;
            }

            if (port.NodePort is { } wanted and > 0)
            {
                if (!held.Contains(wanted) && !await _nodePorts.TryAllocateAsync(wanted - _nodePortBase, dryRun, cancellationToken))
                {
                    throw ApiException.Invalid("Service", obj.Metadata.Name, "", [FieldError.Invalid($"spec.ports[{i}].nodePort", wanted, "provided port is already allocated")]);
                }

                if (!held.Contains(wanted) && !dryRun)
                {
                    taken.Add((_nodePorts, wanted - _nodePortBase));
                }

                continue;
            }

            int slot = await _nodePorts.AllocateNextAsync(dryRun, cancellationToken)
                ?? throw ApiException.Invalid("Service", obj.Metadata.Name, "", [FieldError.Invalid($"spec.ports[{i}].nodePort", 0, "range is full")]);
            if (!dryRun)
            {
                taken.Add((_nodePorts, slot));
            }

            port.NodePort = _nodePortBase + slot;
        }
    }

    private static ApiException ClusterIpError(V1Service obj, string ip, string why) =>
        ApiException.Invalid("Service", obj.Metadata.Name, "", [FieldError.Invalid("spec.clusterIPs", new LiteralValue($"[]string{{\"{ip}\"}}"), $"failed to allocate IP {ip}: {why}")]);
}
