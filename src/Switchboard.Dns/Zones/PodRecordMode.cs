namespace Switchboard.Dns.Zones;

/// <summary>How <c>a-b-c-d.&lt;ns&gt;.pod.&lt;zone&gt;</c> names are answered (CoreDNS <c>pods</c> option).</summary>
public enum PodRecordMode
{
    /// <summary>No pod records: every name below <c>pod.&lt;zone&gt;</c> is NXDOMAIN.</summary>
    Disabled,

    /// <summary>Answer any IP-shaped label in an existing namespace without checking for a pod (kube-dns compatible).</summary>
    Insecure,

    /// <summary>Answer only for IPs of pods that exist in that namespace.</summary>
    Verified,
}
