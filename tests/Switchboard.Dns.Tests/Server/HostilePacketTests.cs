using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using CsCheck;
using Switchboard.Dns.Tests.Support;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Tests.Server;

/// <summary>
/// Hostile datagrams over real UDP. Each is followed by a valid probe from the same socket; the server
/// handles one client's datagrams in order, so whatever arrives before the probe's answer is the reply
/// to the hostile packet — which is how a drop is observed without waiting for a timeout.
/// </summary>
public sealed class HostilePacketTests(DnsServerFixture server) : IClassFixture<DnsServerFixture>
{
    private const string Name = "web.default.svc.cluster.local";

    private static readonly byte[] Valid = TestQuery.Create(Name, DnsRecordType.A, id: 1);

    public static TheoryData<string, byte[], string?> Packets => new()
    {
        { "empty datagram", [], null },
        { "eleven bytes", Valid[..11], null },
        { "a response (QR=1)", Set(Valid, 2, 0x81, 0x00), null },
        { "a response to an unknown query", Set(TestQuery.Create(Name, DnsRecordType.A, id: 1, flags: 0x8400), 3, 3), null },
        { "no question", Set(Valid, 5, 0), "FormErr" },
        { "two questions", Set(Valid, 5, 2), "FormErr" },
        { "counts larger than the data", Set(Valid, 7, 9), "FormErr" },
        { "pointer to itself", [.. Valid[..12], 0xC0, 12, 0, 1, 0, 1], "FormErr" },
        { "pointer loop A-B-A", [.. Valid[..12], 1, (byte)'a', 0xC0, 16, 1, (byte)'b', 0xC0, 12, 0, 1, 0, 1], "FormErr" },
        { "forward pointer", [.. Valid[..12], 0xC0, 14, 0, 0, 1, 0, 1], "FormErr" },
        { "pointer beyond the end", [.. Valid[..12], 0xFF, 0xFF], "FormErr" },
        { "label length 64", [.. Valid[..12], 64, .. new byte[64], 0, 0, 1, 0, 1], "FormErr" },
        { "label type 0x80", [.. Valid[..12], 0x80, 0, 0, 1, 0, 1], "FormErr" },
        { "name over 255 octets", [.. Valid[..12], .. Enumerable.Repeat<byte[]>([63, .. new byte[63]], 5).SelectMany(l => l), 0, 0, 1, 0, 1], "FormErr" },
        { "question without type and class", Valid[..^4], "FormErr" },
        { "two OPT records", TwoOpts(), "FormErr" },
        { "qtype OPT", TestQuery.Create(Name, DnsRecordType.OPT, id: 1), "FormErr" },
        { "opcode STATUS", Set(Valid, 2, 0x10), "NotImp" },
        { "opcode UPDATE", Set(Valid, 2, 0x28), "NotImp" },
        { "opcode 15", Set(Valid, 2, 0x78), "NotImp" },
        { "class CH", TestQuery.Create("version.bind", DnsRecordType.TXT, id: 1, @class: (ushort)DnsClass.CH), "Refused" },
        { "class HS", TestQuery.Create(Name, DnsRecordType.A, id: 1, @class: (ushort)DnsClass.HS), "Refused" },
        { "AXFR over UDP", TestQuery.Create("cluster.local", DnsRecordType.AXFR, id: 1), "Refused" },
        { "EDNS version 1", TestQuery.Create(Name, DnsRecordType.A, id: 1, udpSize: 4096, ednsVersion: 1), "BadVers" },
        { "EDNS payload size 0", TestQuery.Create(Name, DnsRecordType.A, id: 1, udpSize: 0), "NoError" },
        { "4000 bytes of trailing garbage", [.. Valid, .. new byte[4000]], "NoError" },
        { "the largest UDP datagram", [.. Valid, .. new byte[65_507 - Valid.Length]], "NoError" },
        { "binary and dots inside a label", TestQueryWithLabel([0, (byte)'.', 0xFF, (byte)'A']), "Refused" },
    };

    [Theory]
    [MemberData(nameof(Packets))]
    public async Task Hostile_packets_are_dropped_or_get_a_small_error(string why, byte[] packet, string? code)
    {
        using Socket client = Client();

        IReadOnlyList<byte[]> replies = await SendWithProbeAsync(client, packet, probeId: 0xBEEF);

        if (code is null)
        {
            Assert.True(replies.Count == 0, $"{why}: expected no reply, got {replies.Count}");
            return;
        }

        byte[] reply = Assert.Single(replies);
        TestResponse parsed = TestResponse.Parse(reply);
        Assert.True(Enum.Parse<DnsResponseCode>(code) == parsed.Code, $"{why}: expected {code}, got {parsed.Code}");
        Assert.InRange(reply.Length, 12, parsed.Opt is null ? 512 : 1232);
        if (parsed.Code != DnsResponseCode.NoError)
        {
            Assert.InRange(reply.Length, 12, Math.Max(12, packet.Length + 11));
        }
    }

    [Fact]
    public async Task Random_datagrams_do_not_break_the_server_and_dig_still_gets_answers()
    {
        using Socket client = Client();
        byte[][] packets = Gen.Byte.Array[0, 1500].Array[200].Single();
        ushort probeId = 0xA000;
        foreach (byte[] packet in packets)
        {
            if (packet.Length >= 2)
            {
                // Keep hostile IDs apart from probe IDs so a reply is attributed to the right packet.
                BinaryPrimitives.WriteUInt16BigEndian(packet, 1);
            }

            foreach (byte[] reply in await SendWithProbeAsync(client, packet, probeId++))
            {
                TestResponse parsed = TestResponse.Parse(reply);
                Assert.True(parsed.Header.IsResponse);
                Assert.InRange(reply.Length, 12, parsed.Opt is null ? 512 : 1232);
            }
        }

        Assert.Equal(["10.96.0.20"], Dig.Lines(await Dig.RunAsync(server.EndPoint, Name, "A", "+short")));
        Assert.Equal(["10.96.0.20"], Dig.Lines(await Dig.RunAsync(server.EndPoint, "+tcp", Name, "A", "+short")));
    }

    private Socket Client()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Connect(server.EndPoint);
        return socket;
    }

    /// <summary>Sends a packet, then a probe; returns every datagram that arrived before the probe's answer.</summary>
    private static async Task<IReadOnlyList<byte[]>> SendWithProbeAsync(Socket client, byte[] packet, ushort probeId)
    {
        await client.SendAsync(packet, SocketFlags.None);
        await client.SendAsync(TestQuery.Create(Name, DnsRecordType.A, id: probeId), SocketFlags.None);
        var replies = new List<byte[]>();
        while (true)
        {
            byte[] datagram = await TestSocket.ReceiveUdpAsync(client, $"the answer to probe {probeId:X4}");
            if (datagram.Length >= 12 && BinaryPrimitives.ReadUInt16BigEndian(datagram) == probeId)
            {
                Assert.Equal(["10.96.0.20"], TestResponse.Parse(datagram).AnswerData);
                return replies;
            }

            replies.Add(datagram);
        }
    }

    private static byte[] Set(byte[] message, int offset, params byte[] values)
    {
        byte[] copy = (byte[])message.Clone();
        values.CopyTo(copy, offset);
        return copy;
    }

    private static byte[] TwoOpts()
    {
        byte[] one = TestQuery.Create(Name, DnsRecordType.A, id: 1, udpSize: 1232);
        byte[] two = [.. one, .. one[^11..]];
        two[11] = 2;
        return two;
    }

    private static byte[] TestQueryWithLabel(byte[] label) =>
        TestQuery.Create([(byte)label.Length, .. label, 0], (ushort)DnsRecordType.A, 1, null, 0, false, DnsHeader.RdFlag, (ushort)DnsClass.IN);
}
