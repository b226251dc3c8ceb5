using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Switchboard.ApiServer.Security;
using Switchboard.ApiServer.Tests.Support;
using Switchboard.Storage;
using Switchboard.Storage.Etcd;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Cli;

/// <summary>
/// <c>switchboard apiserver</c> over a real etcd that serves only TLS and asks for client certificates, reached with
/// kube-apiserver's <c>--etcd-cafile</c>, <c>--etcd-certfile</c> and <c>--etcd-keyfile</c>; the certificates come
/// from the project's own CA code.
/// </summary>
public sealed class EtcdTlsTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("sb-etcd-tls-");
    private RunningProcess? _etcd;
    private string _endpoint = "";

    private string Pki => _dir.File("pki");

    private string CaFile => Path.Combine(Pki, "ca.crt");

    private string ClientCertificate => Path.Combine(Pki, "client.crt");

    private string ClientKey => Path.Combine(Pki, "client.key");

    public async Task InitializeAsync()
    {
        // etcd's serving certificate names 127.0.0.1, as a node's does; the client's is one the cluster CA issues.
        var (serverCertificate, serverKey, _) = KubeletCertificates.EnsureServing(Pki, Path.Combine(Pki, "etcd"), "etcd", [IPAddress.Loopback], TimeProvider.System);
        using (var client = KubeletCertificates.IssueClient(Pki, "switchboard-apiserver", organization: null, TimeProvider.System))
        using (var key = client.GetECDsaPrivateKey()!)
        {
            PrivateFiles.Write(ClientCertificate, client.ExportCertificatePem());
            PrivateFiles.Write(ClientKey, key.ExportPkcs8PrivateKeyPem());
        }

        int clientPort = FreePort.Next();
        _endpoint = "https://127.0.0.1:" + clientPort.ToString(CultureInfo.InvariantCulture);
        string peer = "http://127.0.0.1:" + FreePort.Next().ToString(CultureInfo.InvariantCulture);
        _etcd = RunningProcess.Start("/usr/bin/etcd",
        [
            "--name", "tls", "--data-dir", _dir.File("etcd"),
            "--listen-client-urls", _endpoint, "--advertise-client-urls", _endpoint,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "tls=" + peer,
            "--cert-file", serverCertificate, "--key-file", serverKey, "--client-cert-auth", "--trusted-ca-file", CaFile,
            "--logger", "zap", "--log-outputs", "stderr",
        ]);
        await Eventually.WaitAsync(
            async () =>
            {
                Assert.False(_etcd.HasExited, "etcd exited:\n" + _etcd.Output);
                try
                {
                    await using var store = await OpenAsync(new EtcdStoreOptions { CaFile = CaFile, CertificateFile = ClientCertificate, KeyFile = ClientKey, CompactionInterval = null });
                    return true;
                }
                catch (StorageException)
                {
                    return false;
                }
            },
            "etcd to serve TLS");
    }

    public Task DisposeAsync()
    {
        _etcd?.Dispose();
        _dir.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Apiserver_keeps_its_objects_in_etcd_over_tls_with_a_client_certificate()
    {
        using var server = new ApiServerProcess(_dir.File("data"), _endpoint, "--etcd-cafile", CaFile, "--etcd-certfile", ClientCertificate, "--etcd-keyfile", ClientKey);
        await server.StartAsync();

        var kubectl = new Kubectl(server.KubeconfigPath, _dir.File("kubectl-cache"));
        await kubectl.OutputAsync("create", "namespace", "over-tls");

        await using var store = await OpenAsync(new EtcdStoreOptions { CaFile = CaFile, CertificateFile = ClientCertificate, KeyFile = ClientKey, CompactionInterval = null });
        var stored = await store.GetAsync("/registry/namespaces/over-tls");
        Assert.NotNull(stored);
        Assert.Contains("\"name\":\"over-tls\"", Encoding.UTF8.GetString(stored.Value), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_the_client_certificate_or_the_ca_etcd_is_not_reached()
    {
        await Assert.ThrowsAsync<StorageException>(() => OpenAsync(new EtcdStoreOptions { CaFile = CaFile, CompactionInterval = null }));

        // The system's roots do not know the cluster CA: etcd's serving certificate is refused.
        await Assert.ThrowsAsync<StorageException>(() => OpenAsync(new EtcdStoreOptions { CertificateFile = ClientCertificate, KeyFile = ClientKey, CompactionInterval = null }));
    }

    [Fact]
    public async Task Tls_flags_without_an_https_store_are_refused_with_the_reason()
    {
        var result = await ChildProcess.RunAsync(ChildProcess.DotnetHost,
            [Path.Combine(AppContext.BaseDirectory, "switchboard.dll"), "apiserver", "--data-dir", _dir.File("data"), "--store", "etcd://127.0.0.1:2379", "--etcd-cafile", CaFile]);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--etcd-cafile, --etcd-certfile and --etcd-keyfile need --store https://", result.Stdout + result.Stderr, StringComparison.Ordinal);
    }

    private async Task<IKeyValueStore> OpenAsync(EtcdStoreOptions options)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await KeyValueStoreFactory.OpenAsync(Storage.StoreLocation.Parse(_endpoint), sqliteFile: "", loggerFactory: null, options with { RequestTimeout = TimeSpan.FromSeconds(3) }, timeout.Token);
    }
}
