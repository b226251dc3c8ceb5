using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Switchboard.Node.Server;
using Switchboard.Node.Tests.Fixtures;

namespace Switchboard.Node.Tests.Server;

/// <summary>
/// The API server's upgrade relay at the HTTP level: a node's HTTPS server (the real <see cref="KubeletServer"/> with
/// the node's certificate and client CA) whose one handler, in this test, accepts any upgrade and echoes bytes; the
/// client speaks raw HTTP/1.1 over TLS to the API server's <c>nodes/NAME/proxy</c>.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class UpgradeRelayTests(NodeFixture fixture)
{
    [Fact]
    public async Task The_node_s_101_reaches_the_client_and_bytes_pass_both_ways_unchanged()
    {
        var serverOptions = fixture.Options.Server! with { Port = 0 };
        await using var echo = await KubeletServer.StartAsync(serverOptions, new Dictionary<string, RequestDelegate>(StringComparer.Ordinal)
        {
            ["/echo"] = EchoAsync,
        }, NullLoggerFactory.Instance, CancellationToken.None);
        const string node = "echo-node";
        await fixture.Client.CoreV1.CreateNodeAsync(new V1Node { Metadata = new V1ObjectMeta { Name = node }, Spec = new V1NodeSpec { Unschedulable = true } });
        try
        {
            string status = $"{{\"status\":{{\"addresses\":[{{\"type\":\"Hostname\",\"address\":\"{node}\"}},{{\"type\":\"InternalIP\",\"address\":\"127.0.0.1\"}}],\"daemonEndpoints\":{{\"kubeletEndpoint\":{{\"Port\":{echo.Port}}}}}}}}}";
            await fixture.Client.CoreV1.PatchNodeStatusAsync(new V1Patch(status, V1Patch.PatchType.MergePatch), node);

            using var tls = await ConnectAsync();
            string token = (await File.ReadAllTextAsync(Path.Combine(fixture.Server.DataDirectory, "admin.token"))).Trim();
            string request = $"GET /api/v1/nodes/{node}/proxy/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                + "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\nX-Stream-Protocol-Version: v3.channel.k8s.io\r\n\r\n";
            await tls.WriteAsync(Encoding.ASCII.GetBytes(request));
            string head = await ReadHeadAsync(tls);
            Assert.StartsWith("HTTP/1.1 101 ", head, StringComparison.Ordinal);
            Assert.Contains("\r\nUpgrade: SPDY/3.1\r\n", head, StringComparison.OrdinalIgnoreCase);
            // The node chose from what the client offered, and the client sees the node's choice.
            Assert.Contains("\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n", head, StringComparison.OrdinalIgnoreCase);

            byte[] sent = RandomNumberGenerator.GetBytes(4 * 1024 * 1024);
            var writing = Task.Run(async () =>
            {
                for (int offset = 0; offset < sent.Length; offset += 100_000)
                {
                    await tls.WriteAsync(sent.AsMemory(offset, Math.Min(100_000, sent.Length - offset)));
                }
            });
            byte[] received = new byte[sent.Length];
            await tls.ReadExactlyAsync(received).AsTask().WaitAsync(TimeSpan.FromSeconds(60));
            await writing;
            Assert.True(sent.AsSpan().SequenceEqual(received), "the echoed bytes are the bytes sent");
        }
        finally
        {
            await fixture.Client.CoreV1.DeleteNodeAsync(node);
        }
    }

    /// <summary>Accepts the upgrade with the first offered stream protocol and sends back whatever arrives.</summary>
    private static async Task EchoAsync(HttpContext context)
    {
        var upgrade = context.Features.Get<IHttpUpgradeFeature>()!;
        context.Response.Headers["Upgrade"] = context.Request.Headers["Upgrade"];
        context.Response.Headers["X-Stream-Protocol-Version"] = context.Request.Headers["X-Stream-Protocol-Version"][0];
        await using var stream = await upgrade.UpgradeAsync();
        await stream.CopyToAsync(stream);
    }

    /// <summary>TLS to the API server, its certificate checked against the cluster CA.</summary>
    private async Task<SslStream> ConnectAsync()
    {
        var url = fixture.Server.Host.Url;
        var tcp = new TcpClient();
        await tcp.ConnectAsync(url.Host, url.Port);
        using var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(fixture.Server.DataDirectory, "ca.crt"));
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(ca);
        var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = url.Host,
            CertificateChainPolicy = policy,
            ApplicationProtocols = [SslApplicationProtocol.Http11],
        });
        return tls;
    }

    /// <summary>The response head, byte by byte up to the blank line, so nothing after it is consumed.</summary>
    private static async Task<string> ReadHeadAsync(Stream stream)
    {
        var head = new StringBuilder();
        byte[] one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            await stream.ReadExactlyAsync(one);
            head.Append((char)one[0]);
        }

        return head.ToString();
    }
}
