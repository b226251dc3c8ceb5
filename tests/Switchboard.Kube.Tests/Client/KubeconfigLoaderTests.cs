using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s.Exceptions;
using Switchboard.Kube.Client;

namespace Switchboard.Kube.Tests.Client;

/// <summary>A kubeconfig's current context becomes the client configuration client-go would build from it.</summary>
public sealed class KubeconfigLoaderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sb-kubeconfig-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void The_current_contexts_server_ca_token_and_namespace_are_read_from_inline_data()
    {
        string ca = CertificatePem("test-ca");
        string path = Write("config", $$"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: other
              cluster: {server: "https://10.0.0.1:1"}
            - name: local
              cluster:
                server: https://127.0.0.1:6443
                certificate-authority-data: {{Convert.ToBase64String(Encoding.UTF8.GetBytes(ca))}}
            contexts:
            - name: admin
              context: {cluster: local, user: admin, namespace: critical-app}
            current-context: admin
            users:
            - name: admin
              user: {token: secret-token}
            """);

        var config = KubeconfigLoader.Load(path);

        Assert.Equal(("https://127.0.0.1:6443", "secret-token", "critical-app"), (config.Host, config.AccessToken, config.Namespace));
        Assert.Equal("CN=test-ca", Assert.Single(config.SslCaCerts!).Subject);
        Assert.False(config.SkipTlsVerify);
    }

    [Fact]
    public void Certificate_files_are_read_relative_to_the_kubeconfig()
    {
        string certificate = CertificatePem("system:node:n1");
        Write("node.crt", certificate);
        Write("node.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        string path = Write("node.kubeconfig", """
            clusters:
            - name: c
              cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
            contexts:
            - name: n
              context: {cluster: c, user: node}
            current-context: n
            users:
            - name: node
              user: {client-certificate: node.crt, client-key: node.key}
            """);

        var config = KubeconfigLoader.Load(path);

        Assert.Equal(certificate, Encoding.UTF8.GetString(Convert.FromBase64String(config.ClientCertificateData!)));
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", Encoding.UTF8.GetString(Convert.FromBase64String(config.ClientCertificateKeyData!)), StringComparison.Ordinal);
        Assert.True(config.SkipTlsVerify);
        Assert.Null(config.AccessToken);
    }

    [Theory]
    [InlineData("clusters: []\n", "has no current-context")]
    [InlineData("current-context: x\ncontexts: []\n", "has no context named x")]
    [InlineData("current-context: x\ncontexts:\n- {name: x, context: {cluster: c, user: u}}\nclusters:\n- {name: c, cluster: {server: s}}\nusers:\n- {name: u, user: {exec: {command: aws}}}\n", "needs a credential plugin")]
    [InlineData("a: [1\n", "is not YAML")]
    public void What_cannot_be_used_is_named(string text, string message)
    {
        var e = Assert.Throws<KubeConfigException>(() => KubeconfigLoader.Load(Write("bad", text)));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    private string Write(string name, string text)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string CertificatePem(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=" + subject, key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        return certificate.ExportCertificatePem() + "\n";
    }
}
