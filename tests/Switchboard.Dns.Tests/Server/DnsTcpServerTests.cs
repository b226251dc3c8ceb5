using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Switchboard.Dns.Server;
using Switchboard.Dns.Tests.Support;
using Switchboard.Dns.Wire;
using Switchboard.Testing;

namespace Switchboard.Dns.Tests.Server;

/// <summary>
/// DNS over TCP on a real loopback socket. Each test starts its own server with the limits it exercises; the idle
/// timeout runs on a fake clock, so a connection goes idle only when a test moves the clock.
/// </summary>
public sealed class DnsTcpServerTests : IAsyncLifetime
{
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(10);

    private readonly TestCluster _cluster = new();
    private readonly FakeTimeProvider _time = new(TestCluster.Now);
    private readonly List<DnsServer> _servers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (DnsServer server in _servers)
        {
            await server.DisposeAsync();
        }
    }

    private IPEndPoint Start(int maxConnections = 16)
    {
        var server = DnsServer.Start(
            _cluster.Index,
            new DnsServerOptions
            {
                EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
                UdpSockets = 1,
                TcpIdleTimeout = IdleTimeout,
                MaxTcpConnections = maxConnections,
            },
            _time);
        _servers.Add(server);
        return server.EndPoint;
    }

    [Fact]
    public async Task Pipelined_queries_are_all_answered_in_order()
    {
        using Socket client = await TestSocket.ConnectTcpAsync(Start());
        string[] names = ["web", "dual", "empty", "nope"];

        await client.SendAsync(names.SelectMany((n, i) => TestSocket.Frame(TestQuery.Create($"{n}.default.svc.cluster.local", DnsRecordType.A, id: (ushort)(100 + i)))).ToArray(), SocketFlags.None);

        for (int i = 0; i < names.Length; i++)
        {
            byte[] reply = await TestSocket.ReceiveFrameAsync(client, $"answer {i}") ?? throw new InvalidOperationException("closed early");
            TestResponse response = TestResponse.Parse(reply);
            Assert.Equal(100 + i, response.Header.Id);
            Assert.Equal($"{names[i]}.default.svc.cluster.local.", response.QuestionName);
        }
    }

    [Fact]
    public async Task A_query_written_one_byte_at_a_time_is_answered()
    {
        using Socket client = await TestSocket.ConnectTcpAsync(Start());
        client.NoDelay = true;

        foreach (byte b in TestSocket.Frame(TestQuery.Create("web.default.svc.cluster.local", DnsRecordType.A)))
        {
            await client.SendAsync(new[] { b }, SocketFlags.None);
        }

        byte[]? reply = await TestSocket.ReceiveFrameAsync(client, "the answer");
        Assert.Equal(["10.96.0.20"], TestResponse.Parse(reply!).AnswerData);
    }

    [Fact]
    public async Task An_idle_connection_is_closed()
    {
        using Socket client = await TestSocket.ConnectTcpAsync(Start());

        await AdvanceUntilClosedAsync(client, "idle timeout");
    }

    [Fact]
    public async Task A_stalled_message_is_closed_by_the_idle_timeout()
    {
        using Socket client = await TestSocket.ConnectTcpAsync(Start());

        await client.SendAsync(new byte[] { 0, 100, 1, 2, 3 }, SocketFlags.None);

        await AdvanceUntilClosedAsync(client, "a length prefix promising more than was sent");
    }

    [Fact]
    public async Task A_zero_length_frame_closes_the_connection()
    {
        using Socket client = await TestSocket.ConnectTcpAsync(Start());

        await client.SendAsync(new byte[] { 0, 0 }, SocketFlags.None);

        await TestSocket.AssertClosedAsync(client, "zero-length frame");
    }

    [Fact]
    public async Task Garbage_gets_formerr_and_the_connection_keeps_serving()
    {
        using Socket client = await TestSocket.ConnectTcpAsync(Start());
        byte[] garbage = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1];

        await client.SendAsync(TestSocket.Frame(garbage), SocketFlags.None);
        await client.SendAsync(TestSocket.Frame(TestQuery.Create("web.default.svc.cluster.local", DnsRecordType.A, id: 2)), SocketFlags.None);

        TestResponse first = TestResponse.Parse((await TestSocket.ReceiveFrameAsync(client, "FORMERR"))!);
        TestResponse second = TestResponse.Parse((await TestSocket.ReceiveFrameAsync(client, "the answer"))!);
        Assert.Equal(DnsResponseCode.FormErr, first.Code);
        Assert.Equal(["10.96.0.20"], second.AnswerData);
    }

    [Fact]
    public async Task Connections_over_the_limit_are_closed_and_the_others_keep_working()
    {
        IPEndPoint endPoint = Start(maxConnections: 2);
        using Socket first = await TestSocket.ConnectTcpAsync(endPoint);
        using Socket second = await TestSocket.ConnectTcpAsync(endPoint);
        await AskAsync(first);
        await AskAsync(second);

        using Socket third = await TestSocket.ConnectTcpAsync(endPoint);

        await TestSocket.AssertClosedAsync(third, "third connection with a limit of two");
        await AskAsync(first);
    }

    /// <summary>
    /// Moves the clock on by the idle timeout until the server has closed the connection. The server arms its idle
    /// timer when it gets to the connection, which a test cannot see, so a first move may come before it.
    /// </summary>
    private async Task AdvanceUntilClosedAsync(Socket client, string why)
    {
        await Eventually.WaitAsync(
            () =>
            {
                _time.Advance(IdleTimeout);
                return client.Poll(0, SelectMode.SelectRead);
            },
            why,
            TestSocket.Deadline);
        await TestSocket.AssertClosedAsync(client, why);
    }

    private static async Task AskAsync(Socket client)
    {
        await client.SendAsync(TestSocket.Frame(TestQuery.Create("web.default.svc.cluster.local", DnsRecordType.A)), SocketFlags.None);
        byte[]? reply = await TestSocket.ReceiveFrameAsync(client, "the answer");
        Assert.Equal(["10.96.0.20"], TestResponse.Parse(reply!).AnswerData);
    }
}
