using System.Globalization;
using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Switchboard.ApiServer.Errors;
using Switchboard.ApiServer.Registry;
using Switchboard.ApiServer.Tables;
using Switchboard.ApiServer.Validation;

namespace Switchboard.ApiServer.Kinds;

/// <summary>
/// networking.k8s.io/v1 NetworkPolicies, stored and validated as kube-apiserver does (selectors, ports and port ranges,
/// peers, ipBlock cidr and except, policyTypes), with its defaults: TCP for a port without a protocol, and policyTypes
/// Ingress, plus Egress when there are egress rules. Nothing enforces them yet: that is the data plane's part.
/// </summary>
internal sealed class NetworkPolicyStrategy : ResourceStrategy<V1NetworkPolicy>
{
    private const string CidrMessage = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";

    private static readonly IReadOnlyList<TableColumn<V1NetworkPolicy>> Table =
    [
        Columns.Name<V1NetworkPolicy>(),
        new("Pod-Selector", "string", 0, (n, _) => Columns.Selector(n.Spec?.PodSelector), "", "Select which pods this network policy applies to."),
        Columns.Age<V1NetworkPolicy>(),
    ];

    public override IReadOnlyList<TableColumn<V1NetworkPolicy>> TableColumns => Table;

    public override void Default(V1NetworkPolicy obj)
    {
        var spec = obj.Spec ??= new V1NetworkPolicySpec();
        spec.PodSelector ??= new V1LabelSelector();
        foreach (var port in (spec.Ingress ?? []).SelectMany(r => r.Ports ?? []).Concat((spec.Egress ?? []).SelectMany(r => r.Ports ?? [])))
        {
            port.Protocol ??= "TCP";
        }

        if (spec.PolicyTypes is null or { Count: 0 })
        {
            spec.PolicyTypes = spec.Egress is { Count: > 0 } ? ["Ingress", "Egress"] : ["Ingress"];
        }
    }

    public override IEnumerable<FieldError> Validate(V1NetworkPolicy obj)
    {
        var spec = obj.Spec;
        var errors = new List<FieldError>(LabelSelectorRules.Validate(spec.PodSelector, "spec.podSelector"));
        for (int i = 0; i < (spec.Ingress?.Count ?? 0); i++)
        {
            var rule = spec.Ingress![i];
            errors.AddRange(Rule($"spec.ingress[{i}]", rule.Ports, "from", rule.FromProperty));
        }

        for (int i = 0; i < (spec.Egress?.Count ?? 0); i++)
        {
            var rule = spec.Egress![i];
            errors.AddRange(Rule($"spec.egress[{i}]", rule.Ports, "to", rule.To));
        }

        var types = spec.PolicyTypes ?? [];
        if (types.Count > 2)
        {
            errors.Add(FieldError.Invalid("spec.policyTypes", new LiteralValue($"[]networking.PolicyType{{{string.Join(", ", types.Select(t => $"\"{t}\""))}}}"), "may not specify more than two policyTypes"));
            return errors;
        }

        for (int i = 0; i < types.Count; i++)
        {
            if (types[i] is not ("Ingress" or "Egress"))
            {
                errors.Add(FieldError.NotSupported($"spec.policyTypes[{i}]", types[i], "Ingress", "Egress"));
            }
        }

        return errors;
    }

    private static IEnumerable<FieldError> Rule(string path, IList<V1NetworkPolicyPort>? ports, string peerField, IList<V1NetworkPolicyPeer>? peers)
    {
        for (int p = 0; p < (ports?.Count ?? 0); p++)
        {
            foreach (var error in Port($"{path}.ports[{p}]", ports![p]))
            {
                yield return error;
            }
        }

        for (int p = 0; p < (peers?.Count ?? 0); p++)
        {
            foreach (var error in Peer($"{path}.{peerField}[{p}]", peers![p]))
            {
                yield return error;
            }
        }
    }

    private static IEnumerable<FieldError> Port(string path, V1NetworkPolicyPort port)
    {
        if (port.Protocol is { } protocol and not ("TCP" or "UDP" or "SCTP"))
        {
            yield return FieldError.NotSupported(path + ".protocol", protocol, "TCP", "UDP", "SCTP");
        }

        if (port.Port?.Value is not { } value)
        {
            if (port.EndPort is { } end)
            {
                yield return FieldError.Invalid(path + ".endPort", end, "may not be specified when `port` is not specified");
            }
        }
        else if (int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int number))
        {
            if (number is < 1 or > 65535)
            {
                yield return FieldError.Invalid(path + ".port", number, "must be between 1 and 65535, inclusive");
            }

            if (port.EndPort is { } end)
            {
                if (end < number)
                {
                    yield return FieldError.Invalid(path + ".endPort", end, "must be greater than or equal to `port`");
                }

                if (end is < 1 or > 65535)
                {
                    yield return FieldError.Invalid(path + ".endPort", end, "must be between 1 and 65535, inclusive");
                }
            }
        }
        else
        {
            if (port.EndPort is { } end)
            {
                yield return FieldError.Invalid(path + ".endPort", end, "may not be specified when `port` is non-numeric");
            }

            foreach (string message in NameValidation.PortName(value))
            {
                yield return FieldError.Invalid(path + ".port", value, message);
            }
        }
    }

    private static IEnumerable<FieldError> Peer(string path, V1NetworkPolicyPeer peer)
    {
        int kinds = (peer.PodSelector is null ? 0 : 1) + (peer.NamespaceSelector is null ? 0 : 1) + (peer.IpBlock is null ? 0 : 1);
        var errors = new List<FieldError>();
        errors.AddRange(LabelSelectorRules.Validate(peer.PodSelector, path + ".podSelector"));
        errors.AddRange(LabelSelectorRules.Validate(peer.NamespaceSelector, path + ".namespaceSelector"));
        if (peer.IpBlock is { } block)
        {
            errors.AddRange(IpBlock(path + ".ipBlock", block));
        }

        if (kinds == 0)
        {
            errors.Add(FieldError.Required(path, "must specify a peer"));
        }
        else if (kinds > 1 && peer.IpBlock is not null)
        {
            errors.Add(FieldError.Forbidden(path, "may not specify both ipBlock and another peer"));
        }

        return errors;
    }

    private static IEnumerable<FieldError> IpBlock(string path, V1IPBlock block)
    {
        if (string.IsNullOrEmpty(block.Cidr))
        {
            yield return FieldError.Required(path + ".cidr", "");
            yield break;
        }

        if (Cidr.Parse(block.Cidr) is not { } outer)
        {
            yield return FieldError.Invalid(path + ".cidr", block.Cidr, CidrMessage);
            yield break;
        }

        for (int i = 0; i < (block.Except?.Count ?? 0); i++)
        {
            string text = block.Except![i];
            string at = $"{path}.except[{i}]";
            if (Cidr.Parse(text) is not { } inner)
            {
                yield return FieldError.Invalid(at, text, CidrMessage);
            }
            else if (!outer.Contains(inner.Address) || outer.Prefix >= inner.Prefix)
            {
                yield return FieldError.Invalid(at, text, "must be a strict subset of `cidr`");
            }
        }
    }

    /// <summary>A CIDR as Go's net.ParseCIDR reads it: an address (host bits allowed) and a prefix length within its family.</summary>
    private sealed record Cidr(IPAddress Address, int Prefix)
    {
        public static Cidr? Parse(string text)
        {
            int slash = text.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0 || !IPAddress.TryParse(text.AsSpan(0, slash), out var address) || text.AsSpan(0, slash).ContainsAny('%', ' ')
                || (address.AddressFamily == AddressFamily.InterNetwork && text.AsSpan(0, slash).Count('.') != 3)
                || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int prefix))
            {
                return null;
            }

            int bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            return prefix <= bits ? new Cidr(address, prefix) : null;
        }

        public bool Contains(IPAddress other) =>
            other.AddressFamily == Address.AddressFamily && new IPNetwork(Masked(Address, Prefix), Prefix).Contains(other);

        private static IPAddress Masked(IPAddress address, int prefix)
        {
            byte[] bytes = address.GetAddressBytes();
            for (int i = 0; i < bytes.Length; i++)
            {
                int keep = Math.Clamp(prefix - (i * 8), 0, 8);
                bytes[i] &= (byte)(0xFF << (8 - keep));
            }

            return new IPAddress(bytes);
        }
    }
}
