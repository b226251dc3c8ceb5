using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Models;
using Switchboard.ApiServer.Security;
using Switchboard.Node.Tests.Fixtures;

namespace Switchboard.Node.Tests.Streaming;

/// <summary>
/// Talks to the node's exec and attach endpoints as the API server's relay does (its client certificate, the client's
/// subprotocol), with KubernetesClient's own <see cref="StreamDemuxer"/> on the client side; these tests pin the node's
/// half of the protocol while kubectl's tests go through the API server.
/// </summary>
internal sealed class NodeStreamClient(NodeFixture fixture) : IDisposable
{
    private readonly X509Certificate2 _certificate = KubeletCertificates.IssueClient(fixture.Server.DataDirectory, "kube-apiserver-kubelet-client", "system:masters", TimeProvider.System);

    public const string V5 = "v5.channel.k8s.io";
    public const string V4 = "v4.channel.k8s.io";

    /// <summary>The node's HTTPS base address, from the port it recorded in its Node.</summary>
    public async Task<Uri> BaseAsync()
    {
        var node = await fixture.Client.CoreV1.ReadNodeAsync(fixture.Options.NodeName);
        return new Uri($"https://127.0.0.1:{node.Status.DaemonEndpoints.KubeletEndpoint.Port}");
    }

    /// <summary>Opens <paramref name="pathAndQuery"/> (e.g. <c>/exec/ns/pod/main?command=sh&amp;output=1</c>) as a WebSocket offering <paramref name="protocol"/>.</summary>
    public async Task<ClientWebSocket> ConnectAsync(string pathAndQuery, string? protocol)
    {
        var socket = new ClientWebSocket();
        socket.Options.ClientCertificates.Add(_certificate);
        var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(fixture.Server.DataDirectory, "ca.crt"));
        socket.Options.RemoteCertificateValidationCallback = (_, server, _, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return server is not null && chain.Build(new X509Certificate2(server));
        };
        if (protocol is not null)
        {
            socket.Options.AddSubProtocol(protocol);
        }

        var builder = new UriBuilder(await BaseAsync()) { Scheme = "wss" };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(new Uri(builder.Uri, pathAndQuery), timeout.Token);
        return socket;
    }

    /// <summary>A plain HTTPS GET of <paramref name="pathAndQuery"/> with the API server's certificate: the node's answer to a request it refuses.</summary>
    public async Task<(int Code, V1Status Status)> GetAsync(string pathAndQuery)
    {
        var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(fixture.Server.DataDirectory, "ca.crt"));
        using var handler = new HttpClientHandler
        {
            ClientCertificateOptions = ClientCertificateOption.Manual,
            ServerCertificateCustomValidationCallback = (_, server, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return server is not null && chain.Build(server);
            },
        };
        handler.ClientCertificates.Add(_certificate);
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        var response = await client.GetAsync(new Uri(await BaseAsync(), pathAndQuery));
        string body = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonSerializer.Deserialize<V1Status>(body, new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!);
    }

    /// <summary>
    /// Runs a whole session: writes <paramref name="stdin"/> (then closes it, v5), reads stdout, stderr and the error
    /// channel until the node closes; returns what each carried.
    /// </summary>
    public async Task<SessionResult> RunAsync(string pathAndQuery, string protocol, byte[]? stdin = null)
    {
        using var socket = await ConnectAsync(pathAndQuery, protocol);
        Assert.Equal(protocol, socket.SubProtocol);
        using var demuxer = new StreamDemuxer(socket, StreamType.RemoteCommand, ownsSocket: false, supportsClose: protocol == V5);
        using var stdout = demuxer.GetStream(ChannelIndex.StdOut, null);
        using var stderr = demuxer.GetStream(ChannelIndex.StdErr, null);
        using var error = demuxer.GetStream(ChannelIndex.Error, null);
        demuxer.Start();
        var outText = ReadAllAsync(stdout);
        var errText = ReadAllAsync(stderr);
        var status = ReadAllAsync(error);
        if (stdin is not null)
        {
            using var input = demuxer.GetStream(null, ChannelIndex.StdIn);
            for (int offset = 0; offset < stdin.Length; offset += 32 * 1024)
            {
                await input.WriteAsync(stdin.AsMemory(offset, Math.Min(32 * 1024, stdin.Length - offset)));
            }

            await demuxer.CloseChannel(ChannelIndex.StdIn);
        }

        return new SessionResult(await outText, await errText, Encoding.UTF8.GetString(await status));
    }

    public void Dispose() => _certificate.Dispose();

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var memory = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await stream.CopyToAsync(memory, timeout.Token);
        return memory.ToArray();
    }
}

/// <summary>What a session carried: stdout and stderr bytes, and the error channel's text (a Status for v4/v5).</summary>
internal sealed record SessionResult(byte[] Stdout, byte[] Stderr, string Error)
{
    public string StdoutText => Encoding.UTF8.GetString(Stdout);

    public string StderrText => Encoding.UTF8.GetString(Stderr);

    /// <summary>The exit code the Status reports, as KubernetesClient reads it.</summary>
    public int ExitCode => Kubernetes.GetExitCodeOrThrow(KubernetesJson.Deserialize<V1Status>(Error));
}
