using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Switchboard.Dns.Forwarding;
using Switchboard.Dns.Server;
using Switchboard.Dns.Tests.Support;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Tests.Forwarding;

/// <summary>
/// Response-rate limiting on the real server over UDP, with a clock that only moves when told: a client outside the
/// cluster networks gets its rate, then every other answer as an empty truncated reply (to retry over TCP) and the
/// rest dropped; a client inside them is never limited. Clients send from 127.0.0.2, which the cluster networks of
/// each test leave out or take in.
/// </summary>
public sealed class ResponseRateLimitTests
{
    private const int Rate = 10;
    private const int Sent = 30;
    private static readonly IPAddress Client = IPAddress.Parse("127.0.0.2");
    private readonly TestCluster _cluster = new();
    private readonly FakeTimeProvider _time = new(TestCluster.Now);

    [Fact]
    public async Task A_client_outside_the_cluster_networks_gets_its_rate_then_truncated_replies_and_drops()
    {
        await using DnsServer server = Start([IPNetwork.Parse("10.96.0.0/16")]);
        using Socket socket = Bind();

        var replies = await AskAsync(socket, server.EndPoint, Sent, expected: Rate + ((Sent - Rate) / 2));

        Assert.Equal((Rate, (Sent - Rate) / 2), (replies.Count(r => !r.Truncated), replies.Count(r => r.Truncated)));
        Assert.All(replies.Where(r => r.Truncated), r => Assert.Empty(r.Answers));
        await AssertNothingMoreAsync(socket);

        // A second later the bucket holds the rate again.
        _time.Advance(TimeSpan.FromSeconds(1));
        var after = await AskAsync(socket, server.EndPoint, 1, expected: 1);
        Assert.Equal(["10.96.0.20"], after[0].AnswerData);
    }

    [Fact]
    public async Task A_client_inside_the_cluster_networks_is_never_limited()
    {
        await using DnsServer server = Start([IPNetwork.Parse("127.0.0.0/8")]);
        using Socket socket = Bind();

        var replies = await AskAsync(socket, server.EndPoint, Sent, expected: Sent);

        Assert.All(replies, r => Assert.Equal(["10.96.0.20"], r.AnswerData));
    }

    private DnsServer Start(IReadOnlyList<IPNetwork> clusterNetworks) => DnsServer.Start(
        _cluster.Index,
        new DnsServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0), UdpSockets = 1 },
        _time,
        null,
        new DnsServerParts(RateLimit: new ResponseRateLimit(Rate, clusterNetworks, _time)));

    private static Socket Bind()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(Client, 0));
        return socket;
    }

    /// <summary>Sends <paramref name="count"/> queries, then reads the <paramref name="expected"/> replies.</summary>
    private static async Task<List<TestResponse>> AskAsync(Socket socket, IPEndPoint server, int count, int expected)
    {
        for (int i = 0; i < count; i++)
        {
            await socket.SendToAsync(TestQuery.Create("web.default.svc.cluster.local", DnsRecordType.A, id: (ushort)i), SocketFlags.None, server);
        }

        var replies = new List<TestResponse>();
        for (int i = 0; i < expected; i++)
        {
            replies.Add(TestResponse.Parse(await TestSocket.ReceiveUdpAsync(socket, $"reply {i + 1} of {expected}")));
        }

        return replies;
    }

    private static async Task AssertNothingMoreAsync(Socket socket)
    {
        using var quiet = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        byte[] buffer = new byte[512];
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await socket.ReceiveAsync(buffer, SocketFlags.None, quiet.Token));
    }
}
