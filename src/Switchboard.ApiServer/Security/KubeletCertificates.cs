using System.Net;
using System.Security.Cryptography.X509Certificates;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Security;

/// <summary>
/// Certificates for the kubelet's HTTPS port from the cluster CA in a data directory: the node's serving certificate
/// (what kubeadm's kubelet serving CSR gives) and client certificates the node accepts, such as kube-apiserver's
/// <c>apiserver-kubelet-client</c>.
/// </summary>
public static class KubeletCertificates
{
    /// <summary>
    /// Writes a serving certificate for <paramref name="nodeName"/> (its name, localhost and <paramref name="addresses"/>)
    /// into <paramref name="directory"/> as kubelet.crt and kubelet.key, unless one for the same CA is there.
    /// </summary>
    /// <returns>The certificate and key files, and the CA file that client certificates must chain to.</returns>
    public static (string CertificateFile, string KeyFile, string ClientCaFile) EnsureServing(
        string dataDirectory, string directory, string nodeName, IEnumerable<IPAddress> addresses, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        ArgumentNullException.ThrowIfNull(time);
        string certificateFile = Path.Combine(directory, "kubelet.crt");
        string keyFile = Path.Combine(directory, "kubelet.key");
        string caFile = Path.Combine(dataDirectory, ClusterCredentials.CaCertFile);
        if (!ClusterCredentials.IsCurrent(certificateFile, keyFile, caFile, time.GetUtcNow()))
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName(nodeName);
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            foreach (var address in addresses.Where(a => !a.Equals(IPAddress.Any) && !a.Equals(IPAddress.Loopback)))
            {
                names.AddIpAddress(address);
            }

            using var certificate = ClusterCredentials.Issue(dataDirectory, time, $"system:node:{nodeName}", "system:nodes", names);
            PrivateFiles.CreateDirectory(directory);
            using var key = certificate.GetECDsaPrivateKey()!;
            PrivateFiles.Write(keyFile, key.ExportPkcs8PrivateKeyPem());
            PrivateFiles.Write(certificateFile, certificate.ExportCertificatePem());
        }

        return (certificateFile, keyFile, caFile);
    }

    /// <summary>
    /// kube-apiserver's own client certificate for the nodes' HTTPS ports (kubeadm's <c>apiserver-kubelet-client</c>),
    /// kept in the data directory beside the other credentials and issued again when the CA changed or it nears expiry.
    /// </summary>
    public static X509Certificate2 EnsureApiServerClient(string dataDirectory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        string certificateFile = Path.Combine(dataDirectory, "apiserver-kubelet-client.crt");
        string keyFile = Path.Combine(dataDirectory, "apiserver-kubelet-client.key");
        if (!ClusterCredentials.IsCurrent(certificateFile, keyFile, Path.Combine(dataDirectory, ClusterCredentials.CaCertFile), time.GetUtcNow()))
        {
            using var certificate = IssueClient(dataDirectory, "kube-apiserver-kubelet-client", "system:masters", time);
            using var key = certificate.GetECDsaPrivateKey()!;
            PrivateFiles.Write(keyFile, key.ExportPkcs8PrivateKeyPem());
            PrivateFiles.Write(certificateFile, certificate.ExportCertificatePem());
        }

        return X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
    }

    /// <summary>A client certificate with its key, signed by the cluster CA: <c>CN=<paramref name="commonName"/></c>, <c>O=<paramref name="organization"/></c>.</summary>
    public static X509Certificate2 IssueClient(string dataDirectory, string commonName, string? organization, TimeProvider time) =>
        ClusterCredentials.Issue(dataDirectory, time, commonName, organization, names: null);
}
