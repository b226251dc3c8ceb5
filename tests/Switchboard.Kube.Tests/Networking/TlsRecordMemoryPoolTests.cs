using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Switchboard.Kube.Networking;

namespace Switchboard.Kube.Tests.Networking;

/// <summary>Kestrel over the pool seals a streamed body in full TLS records, and the pool hands its blocks out again.</summary>
public sealed class TlsRecordMemoryPoolTests
{
    private const int BodyBytes = 1024 * 1024;

    [Fact]
    public async Task A_streamed_body_leaves_Kestrel_in_full_16_KiB_TLS_records()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        TlsRecordMemoryPool.AddTo(builder.Services);
        await using var app = builder.Build();
        app.Run(async context =>
        {
            // As a relay writes: large chunks, each flushed.
            byte[] chunk = new byte[256 * 1024];
            for (int sent = 0; sent < BodyBytes; sent += chunk.Length)
            {
                await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
            }
        });
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, address.Port);
        var records = new RecordCounter(tcp.GetStream());
        await using var tls = new SslStream(records, leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1", ApplicationProtocols = [SslApplicationProtocol.Http11] });
        await tls.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
        using var received = new MemoryStream();
        await tls.CopyToAsync(received);

        Assert.True(received.Length > BodyBytes, $"the whole answer arrives ({received.Length} bytes)");
        // Each record is 16 KiB of the body plus its type, nonce and tag; a few at a write's edges may be shorter.
        int full = records.ApplicationDataLengths.Count(length => length > 16 * 1024);
        Assert.True(full >= (BodyBytes / (16 * 1024)) - 4, $"{full} of {records.ApplicationDataLengths.Count} records carry 16 KiB: [{string.Join(' ', records.ApplicationDataLengths.Take(20))}…]");
    }

    [Fact]
    public void A_returned_block_is_handed_out_again_and_nothing_larger_than_a_record_is()
    {
        using var pool = new TlsRecordMemoryPool();
        var first = pool.Rent(4096);
        Assert.Equal(TlsRecordMemoryPool.BlockSize, first.Memory.Length);
        var memory = first.Memory;
        first.Dispose();

        using var second = pool.Rent();
        Assert.True(memory.Span == second.Memory.Span, "the block came back");
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(TlsRecordMemoryPool.BlockSize + 1));
    }

    /// <summary>Passes a TLS connection's bytes through, noting each application-data record's length from its plaintext header.</summary>
    private sealed class RecordCounter(Stream inner) : Stream
    {
        private readonly byte[] _header = new byte[5];
        private int _headerFilled;
        private int _remaining;

        public List<int> ApplicationDataLengths { get; } = [];

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int read = await inner.ReadAsync(buffer, cancellationToken);
            Note(buffer.Span[..read]);
            return read;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int read = inner.Read(buffer, offset, count);
            Note(buffer.AsSpan(offset, read));
            return read;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private void Note(ReadOnlySpan<byte> bytes)
        {
            while (!bytes.IsEmpty)
            {
                if (_remaining > 0)
                {
                    int skipped = Math.Min(_remaining, bytes.Length);
                    _remaining -= skipped;
                    bytes = bytes[skipped..];
                    continue;
                }

                int taken = Math.Min(_header.Length - _headerFilled, bytes.Length);
                bytes[..taken].CopyTo(_header.AsSpan(_headerFilled));
                _headerFilled += taken;
                bytes = bytes[taken..];
                if (_headerFilled == _header.Length)
                {
                    _headerFilled = 0;
                    _remaining = BinaryPrimitives.ReadUInt16BigEndian(_header.AsSpan(3));
                    if (_header[0] == 23)
                    {
                        ApplicationDataLengths.Add(_remaining);
                    }
                }
            }
        }
    }
}
