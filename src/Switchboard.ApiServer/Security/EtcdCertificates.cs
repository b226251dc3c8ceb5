using System.Net;
using System.Security.Cryptography.X509Certificates;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Security;

/// <summary>
/// Certificates for the etcd v3 front of the embedded store, from the cluster CA in the data directory: its serving
/// certificate (etcd-server.crt) and the client certificate tools such as etcdctl present (etcd-client.crt, with
/// etcd-client.key beside ca.crt), each issued again when the CA changed or it nears expiry.
/// </summary>
public static class EtcdCertificates
{
    public const string ClientCertificateFile = "etcd-client.crt";
    public const string ClientKeyFile = "etcd-client.key";

    /// <summary>The CA file client certificates must chain to, and tools verify the front with.</summary>
    public static string CaFile(string dataDirectory) => Path.Combine(dataDirectory, ClusterCredentials.CaCertFile);

    /// <summary>The front's serving certificate with its key, naming localhost and <paramref name="addresses"/>, and the cluster CA.</summary>
    public static (X509Certificate2 Serving, X509Certificate2 Authority) EnsureServing(string dataDirectory, IEnumerable<IPAddress> addresses, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        ArgumentNullException.ThrowIfNull(time);
        string certificateFile = Path.Combine(dataDirectory, "etcd-server.crt");
        string keyFile = Path.Combine(dataDirectory, "etcd-server.key");
        var named = addresses.Where(a => !a.Equals(IPAddress.Any) && !a.Equals(IPAddress.IPv6Any)).Append(IPAddress.Loopback).Distinct().ToList();
        if (!ClusterCredentials.IsCurrent(certificateFile, keyFile, CaFile(dataDirectory), time.GetUtcNow()) || !ClusterCredentials.Names(certificateFile, named))
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            foreach (var address in named)
            {
                names.AddIpAddress(address);
            }

            using var certificate = ClusterCredentials.Issue(dataDirectory, time, "switchboard-etcd", null, names);
            Write(certificate, certificateFile, keyFile);
        }

        return (X509Certificate2.CreateFromPemFile(certificateFile, keyFile), X509CertificateLoader.LoadCertificateFromFile(CaFile(dataDirectory)));
    }

    /// <summary>Writes DATA_DIR/etcd-client.crt and etcd-client.key (0600) for tools, unless current ones are there; returns their paths.</summary>
    public static (string CertificateFile, string KeyFile) EnsureClient(string dataDirectory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        string certificateFile = Path.Combine(dataDirectory, ClientCertificateFile);
        string keyFile = Path.Combine(dataDirectory, ClientKeyFile);
        if (!ClusterCredentials.IsCurrent(certificateFile, keyFile, CaFile(dataDirectory), time.GetUtcNow()))
        {
            using var certificate = KubeletCertificates.IssueClient(dataDirectory, "etcd-client", null, time);
            Write(certificate, certificateFile, keyFile);
        }

        return (certificateFile, keyFile);
    }

    private static void Write(X509Certificate2 certificate, string certificateFile, string keyFile)
    {
        using var key = certificate.GetECDsaPrivateKey()!;
        PrivateFiles.Write(keyFile, key.ExportPkcs8PrivateKeyPem());
        PrivateFiles.Write(certificateFile, certificate.ExportCertificatePem());
    }
}
