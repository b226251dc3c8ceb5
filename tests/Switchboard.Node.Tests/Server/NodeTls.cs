using System.Security.Cryptography.X509Certificates;
using Switchboard.ApiServer.Security;

namespace Switchboard.Node.Tests.Server;

/// <summary>What a test needs to talk to the node's HTTPS port as the API server does: trust in the cluster CA and a client certificate it issued.</summary>
internal sealed class NodeTls(string dataDirectory) : IDisposable
{
    private readonly X509Certificate2 _ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(dataDirectory, "ca.crt"));

    /// <summary>The API server's client certificate (kube-apiserver's <c>apiserver-kubelet-client</c>).</summary>
    public X509Certificate2 Client { get; } = KubeletCertificates.IssueClient(dataDirectory, "kube-apiserver-kubelet-client", "system:masters", TimeProvider.System);

    /// <summary>Whether <paramref name="server"/> chains to the cluster CA (a server certificate check for any TLS client).</summary>
    public bool Trusts(X509Certificate? server)
    {
        if (server is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var certificate = X509CertificateLoader.LoadCertificate(server.GetRawCertData());
        return chain.Build(certificate);
    }

    public void Dispose()
    {
        _ca.Dispose();
        Client.Dispose();
    }
}
