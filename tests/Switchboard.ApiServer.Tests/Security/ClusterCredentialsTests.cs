using System.Security.Cryptography.X509Certificates;
using Switchboard.ApiServer.Security;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Security;

public sealed class ClusterCredentialsTests : IDisposable
{
    private readonly TempDirectory _dir = new("sb-creds-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void First_start_generates_a_ca_signed_serving_certificate_for_loopback()
    {
        var credentials = ClusterCredentials.LoadOrCreate(_dir.Path, TimeProvider.System);

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(credentials.CertificateAuthority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(credentials.ServingCertificate), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.True(credentials.ServingCertificate.HasPrivateKey);
        Assert.True(credentials.ServingCertificate.MatchesHostname("127.0.0.1"));
        Assert.True(credentials.ServingCertificate.MatchesHostname("localhost"));
        Assert.Equal(64, credentials.AdminToken.Length);
    }

    [Fact]
    public void Later_starts_reuse_the_ca_certificate_and_token()
    {
        var first = ClusterCredentials.LoadOrCreate(_dir.Path, TimeProvider.System);
        var second = ClusterCredentials.LoadOrCreate(_dir.Path, TimeProvider.System);

        Assert.Equal(first.CertificateAuthority.Thumbprint, second.CertificateAuthority.Thumbprint);
        Assert.Equal(first.ServingCertificate.Thumbprint, second.ServingCertificate.Thumbprint);
        Assert.Equal(first.AdminToken, second.AdminToken);
        Assert.True(second.IsAdminToken(first.AdminToken));
        Assert.False(second.IsAdminToken("wrong"));
    }

    [Fact]
    public void Kubeconfig_holds_server_ca_data_and_token()
    {
        var credentials = ClusterCredentials.LoadOrCreate(_dir.Path, TimeProvider.System);

        string path = Kubeconfig.Write(_dir.Path, new Uri("https://127.0.0.1:6443"), credentials);

        string text = File.ReadAllText(path);
        Assert.Contains("server: https://127.0.0.1:6443", text, StringComparison.Ordinal);
        Assert.Contains("token: " + credentials.AdminToken, text, StringComparison.Ordinal);
        string caLine = text.Split('\n').Single(l => l.Contains("certificate-authority-data:", StringComparison.Ordinal));
        string pem = System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(caLine.Split(':')[1].Trim()));
        Assert.Equal(credentials.CertificateAuthority.Thumbprint, X509Certificate2.CreateFromPem(pem).Thumbprint);
    }
}
