using System.Globalization;
using System.Net.Security;
using System.Text;

namespace Switchboard.ApiServer.Streaming;

/// <summary>
/// One HTTP/1.1 upgrade request to a node over its own TLS connection, written by hand because the client's headers
/// must reach the node line for line: kubectl's SPDY offer repeats <c>X-Stream-Protocol-Version</c>, which HttpClient
/// would fold into one comma-joined line that a kubelet does not split. After a 101 the connection is
/// <see cref="Tls"/>, with <see cref="Early"/> the bytes the node sent right after its head; otherwise
/// <see cref="Body"/> is the answer's body, read whole (an error Status, small).
/// </summary>
internal sealed class UpgradeConnection : IAsyncDisposable
{
    private const int MaxHead = 64 * 1024;
    private const int MaxErrorBody = 1024 * 1024;
    private byte[] _buffer = new byte[8192];
    private int _start;
    private int _filled;

    private UpgradeConnection(SslStream tls)
    {
        Tls = tls;
    }

    public SslStream Tls { get; }

    public int StatusCode { get; private set; }

    public IReadOnlyList<(string Name, string Value)> Headers { get; private set; } = [];

    /// <summary>After a 101: what the node sent after its head, before the relay copies the rest.</summary>
    public ReadOnlyMemory<byte> Early => _buffer.AsMemory(_start, _filled - _start);

    /// <summary>Without a 101: the answer's body.</summary>
    public byte[] Body { get; private set; } = [];

    /// <summary>Sends the request head on <paramref name="tls"/> (connected and authenticated) and reads the answer's head (and, unless 101, its body).</summary>
    public static async Task<UpgradeConnection> OpenAsync(SslStream tls, string method, Uri target, IEnumerable<(string Name, string Value)> headers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tls);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(headers);
        var request = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"{method} {target.PathAndQuery} HTTP/1.1\r\nHost: {target.Authority}\r\nConnection: Upgrade\r\n");
        foreach (var (name, value) in headers)
        {
            request.Append(name).Append(": ").Append(value).Append("\r\n");
        }

        await tls.WriteAsync(Encoding.ASCII.GetBytes(request.Append("\r\n").ToString()), cancellationToken);
        await tls.FlushAsync(cancellationToken);
        var connection = new UpgradeConnection(tls);
        await connection.ReadHeadAsync(cancellationToken);
        if (connection.StatusCode != 101)
        {
            await connection.ReadBodyAsync(cancellationToken);
        }

        return connection;
    }

    public async ValueTask DisposeAsync() => await Tls.DisposeAsync();

    private async Task ReadHeadAsync(CancellationToken cancellationToken)
    {
        int end;
        while ((end = _buffer.AsSpan(0, _filled).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (_filled == MaxHead)
            {
                throw new IOException("the node's response head is too large");
            }

            await FillAsync(cancellationToken);
        }

        string[] lines = Encoding.ASCII.GetString(_buffer, 0, end).Split("\r\n");
        string[] status = lines[0].Split(' ', 3);
        if (status.Length < 2 || !int.TryParse(status[1], NumberStyles.None, CultureInfo.InvariantCulture, out int code))
        {
            throw new IOException($"the node answered with a malformed status line: {lines[0]}");
        }

        StatusCode = code;
        Headers = [.. lines.Skip(1).Select(l => l.Split(':', 2)).Where(p => p.Length == 2).Select(p => (p[0].Trim(), p[1].Trim()))];
        _start = end + 4;
    }

    /// <summary>A refused upgrade's body: by its Content-Length, chunked, or up to the close.</summary>
    private async Task ReadBodyAsync(CancellationToken cancellationToken)
    {
        string? Header(string name) => Headers.FirstOrDefault(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)).Value;
        using var body = new MemoryStream();
        if (string.Equals(Header("Transfer-Encoding"), "chunked", StringComparison.OrdinalIgnoreCase))
        {
            int length;
            while ((length = int.Parse((await ReadLineAsync(cancellationToken)).Split(';')[0].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture)) > 0
                && body.Length + length <= MaxErrorBody)
            {
                body.Write(await ReadAsync(length, cancellationToken));
                await ReadLineAsync(cancellationToken);
            }
        }
        else if (int.TryParse(Header("Content-Length"), NumberStyles.None, CultureInfo.InvariantCulture, out int length))
        {
            body.Write(await ReadAsync(Math.Min(length, MaxErrorBody), cancellationToken));
        }
        else
        {
            while (body.Length < MaxErrorBody && await FillAsync(cancellationToken))
            {
            }

            body.Write(Early.Span);
        }

        Body = body.ToArray();
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        int newline;
        while ((newline = _buffer.AsSpan(_start, _filled - _start).IndexOf((byte)'\n')) < 0)
        {
            if (!await FillAsync(cancellationToken))
            {
                throw new IOException("the node's answer ended in a chunk header");
            }
        }

        string line = Encoding.ASCII.GetString(_buffer, _start, newline).TrimEnd('\r');
        _start += newline + 1;
        return line;
    }

    private async Task<byte[]> ReadAsync(int count, CancellationToken cancellationToken)
    {
        while (_filled - _start < count)
        {
            if (!await FillAsync(cancellationToken))
            {
                throw new IOException("the node's answer ended early");
            }
        }

        byte[] bytes = _buffer.AsSpan(_start, count).ToArray();
        _start += count;
        return bytes;
    }

    /// <summary>Reads more of the answer into the buffer (growing it when full); false at the connection's end.</summary>
    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_filled == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        int read = await Tls.ReadAsync(_buffer.AsMemory(_filled), cancellationToken);
        _filled += read;
        return read > 0;
    }
}
