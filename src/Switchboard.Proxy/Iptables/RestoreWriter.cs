using System.Buffers;
using System.Globalization;
using System.Text;

namespace Switchboard.Proxy.Iptables;

/// <summary>
/// The bytes of one iptables-restore document, written straight as UTF-8 into one pooled buffer that is reused
/// from sync to sync: rendering 10,000 services concatenates no strings and, once the buffer has grown, allocates nothing.
/// </summary>
internal sealed class RestoreWriter : IDisposable
{
    private const int InitialSize = 64 * 1024;

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
    private int _length;

    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _length);

    public int Length => _length;

    /// <summary>How many rules (<c>-A</c> and <c>-I</c> lines) were written since the last <see cref="Clear"/>.</summary>
    public int Rules { get; private set; }

    public void Clear()
    {
        _length = 0;
        Rules = 0;
    }

    /// <summary>Starts a rule that adds to <paramref name="chain"/>: <c>-A CHAIN</c>.</summary>
    public RestoreWriter AppendRule(string chain)
    {
        Rules++;
        return Append("-A ").Append(chain);
    }

    /// <summary>Starts a rule inserted first in <paramref name="chain"/>: <c>-I CHAIN 1</c>.</summary>
    public RestoreWriter InsertRule(string chain)
    {
        Rules++;
        return Append("-I ").Append(chain).Append(" 1");
    }

    public RestoreWriter Append(string text)
    {
        Ensure(Encoding.UTF8.GetMaxByteCount(text.Length));
        _length += Encoding.UTF8.GetBytes(text, _buffer.AsSpan(_length));
        return this;
    }

    /// <summary>Appends a space and then <paramref name="text"/>: rule arguments are space separated.</summary>
    public RestoreWriter Arg(string text) => Append(" ").Append(text);

    public RestoreWriter Arg(int value)
    {
        Ensure(12);
        _buffer[_length++] = (byte)' ';
        value.TryFormat(_buffer.AsSpan(_length), out int written, default, CultureInfo.InvariantCulture);
        _length += written;
        return this;
    }

    /// <summary>A double-quoted comment argument made of three parts: <c> -m comment --comment "abc"</c>.</summary>
    public RestoreWriter Comment(string a, string b = "", string c = "") =>
        Append(" -m comment --comment \"").Append(a).Append(b).Append(c).Append("\"");

    /// <summary>A probability as kube-proxy prints it with Go's <c>%0.10f</c>.</summary>
    public RestoreWriter Probability(double value)
    {
        Ensure(32);
        _buffer[_length++] = (byte)' ';
        value.TryFormat(_buffer.AsSpan(_length), out int written, "F10", CultureInfo.InvariantCulture);
        _length += written;
        return this;
    }

    public RestoreWriter EndLine()
    {
        Ensure(1);
        _buffer[_length++] = (byte)'\n';
        return this;
    }

    public override string ToString() => Encoding.UTF8.GetString(_buffer, 0, _length);

    /// <summary>Appends bytes another writer wrote (whole lines).</summary>
    public RestoreWriter AppendBytes(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
        return this;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        _length = 0;
    }

    private void Ensure(int extra)
    {
        if (_length + extra <= _buffer.Length)
        {
            return;
        }

        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + extra));
        _buffer.AsSpan(0, _length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }
}
