using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Switchboard.Storage.Sqlite;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Security;

/// <summary>The serving certificate names the addresses the API server really listens on, checked by real clients.</summary>
public sealed class ServingAddressTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("sb-serving-");
    private SqliteKeyValueStore? _store;

    public Task InitializeAsync()
    {
        _store = SqliteKeyValueStore.Open(_dir.File("state.db"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _store!.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Kubectl_verifies_the_server_on_the_specific_address_it_listens_on()
    {
        var address = IPAddress.Parse("127.0.0.2");
        await using var host = await ComponentTestHost.StartAsync(services => services.AddApiServer(new ApiServerOptions { DataDirectory = _dir.Path, Address = address, Port = 0 }, _store!));
        var server = host.Get<ApiServerService>();

        Assert.Equal("127.0.0.2", server.Url.Host);
        var kubectl = new Kubectl(server.KubeconfigPath, _dir.File("kubectl-cache"));
        Assert.Contains("kube-system", await kubectl.OutputAsync("get", "namespaces", "-o", "name"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_wildcard_address_warns_and_the_certificate_names_every_interface_address()
    {
        using var logs = new CapturingLoggerFactory();
        await using var host = await ComponentTestHost.StartAsync(
            services => services.AddApiServer(new ApiServerOptions { DataDirectory = _dir.Path, Address = IPAddress.Any, Port = 0 }, _store!), logs: logs);
        var server = host.Get<ApiServerService>();

        // The host's IPv4 addresses as iproute2 lists them: "2: eth0    inet 10.0.0.5/24 brd …".
        string listed = (await ChildProcess.RunAsync("ip", ["-o", "-4", "addr", "show"])).EnsureSuccess("ip addr").Stdout;
        string[] addresses = [.. listed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3].Split('/')[0])];
        Assert.Contains("127.0.0.1", addresses);

        using var certificate = await PresentedCertificateAsync(server.Url.Port);
        Assert.All(addresses, a => Assert.True(certificate.MatchesHostname(a), $"the serving certificate does not name {a}"));
        string warning = Assert.Single(logs.Messages, m => m.Contains("listens on every interface", StringComparison.Ordinal));
        Assert.All(addresses, a => Assert.Contains(a, warning, StringComparison.Ordinal));
    }

    /// <summary>The certificate the server presents on 127.0.0.1 in a real TLS handshake.</summary>
    private static async Task<X509Certificate2> PresentedCertificateAsync(int port)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        X509Certificate2? presented = null;
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, certificate, _, _) =>
        {
            presented = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return true;
        });
        await tls.AuthenticateAsClientAsync("127.0.0.1");
        return presented ?? throw new InvalidOperationException("no certificate presented");
    }
}
