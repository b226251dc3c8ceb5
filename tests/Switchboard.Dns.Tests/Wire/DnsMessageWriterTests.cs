using CsCheck;
using Switchboard.Dns.Tests.Support;
using Switchboard.Dns.Wire;

namespace Switchboard.Dns.Tests.Wire;

public sealed class DnsMessageWriterTests
{
    // Few distinct labels, so generated names share suffixes and compression has something to do.
    private static readonly Gen<string> Name = Gens.Pick("svc", "ns", "cluster", "local", "A", "Local", "x-1").Array[1, 5].Select(l => string.Join('.', l));

    [Fact]
    public void Compresses_a_repeated_suffix_into_a_pointer()
    {
        byte[] buffer = new byte[512];
        var writer = new DnsMessageWriter(buffer, new ushort[32]);
        writer.TryWriteBytes(new byte[12]);
        writer.TryWriteName(DnsName.Parse("a.svc.cluster.local"));
        int second = writer.Position;

        writer.TryWriteName(DnsName.Parse("b.SVC.cluster.local"));

        Assert.Equal(second + 2 + 2, writer.Position);
        Assert.Equal([0xC0, 14], buffer[(second + 2)..(second + 4)]);
    }

    [Fact]
    public void Does_not_compress_when_asked_not_to()
    {
        byte[] buffer = new byte[512];
        var writer = new DnsMessageWriter(buffer, new ushort[32]);
        writer.TryWriteName(DnsName.Parse("svc.cluster.local"));
        int start = writer.Position;

        writer.TryWriteName(DnsName.Parse("svc.cluster.local"), compress: false);

        Assert.Equal(DnsName.Parse("svc.cluster.local").Length, writer.Position - start);
    }

    [Fact]
    public void A_write_that_does_not_fit_leaves_the_writer_unchanged()
    {
        byte[] buffer = new byte[20];
        var writer = new DnsMessageWriter(buffer, new ushort[8]);
        writer.TryWriteBytes(new byte[12]);

        Assert.False(writer.TryWriteName(DnsName.Parse("too-long.cluster.local")));
        Assert.Equal(12, writer.Position);
        Assert.True(writer.TryWriteName(DnsName.Parse("short")));
    }

    [Fact]
    public void Compressed_names_read_back_as_written()
    {
        Name.Array[1, 20].Sample(names =>
        {
            byte[] buffer = new byte[ushort.MaxValue];
            var writer = new DnsMessageWriter(buffer, new ushort[64]);
            writer.TryWriteBytes(new byte[12]);
            var offsets = new List<int>();
            foreach (string name in names)
            {
                offsets.Add(writer.Position);
                Assert.True(writer.TryWriteName(DnsName.Parse(name)));
            }

            byte[] message = writer.Written.ToArray();
            int uncompressed = names.Sum(n => DnsName.Parse(n).Length);
            Assert.True(message.Length - 12 <= uncompressed);
            for (int i = 0; i < names.Length; i++)
            {
                byte[] read = new byte[255];
                Assert.True(DnsName.TryRead(message, offsets[i], read, out int length, out int end));
                Assert.True(DnsName.EqualsIgnoreCase(DnsName.Parse(names[i]), read.AsSpan(0, length)));
                Assert.Equal(i + 1 < names.Length ? offsets[i + 1] : message.Length, end);
            }
        });
    }
}
