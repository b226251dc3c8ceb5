using System.Buffers;
using System.Text;

namespace Switchboard.ApiServer.Protobuf;

/// <summary>
/// Writes a protobuf message field by field, with proto3's rules: empty strings and false are left out, a nested
/// message is always written (its presence is meaningful). What the server encodes itself (the OpenAPI v2 document,
/// <see cref="OpenApi.GnosticV2"/>) needs no more than strings, booleans and messages.
/// </summary>
internal sealed class ProtobufWriter
{
    private readonly ArrayBufferWriter<byte> _bytes = new();

    public void String(int field, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        Tag(field, WireField.LengthDelimitedType);
        Varint((ulong)Encoding.UTF8.GetByteCount(value));
        Encoding.UTF8.GetBytes(value, _bytes);
    }

    public void Bool(int field, bool value)
    {
        if (value)
        {
            Tag(field, WireField.VarintType);
            Varint(1);
        }
    }

    /// <summary>Writes a nested message, whose fields <paramref name="write"/> writes.</summary>
    public void Message(int field, Action<ProtobufWriter> write)
    {
        var inner = new ProtobufWriter();
        write(inner);
        Tag(field, WireField.LengthDelimitedType);
        Varint((ulong)inner._bytes.WrittenCount);
        _bytes.Write(inner._bytes.WrittenSpan);
    }

    public byte[] ToArray() => _bytes.WrittenSpan.ToArray();

    private void Tag(int field, int wireType) => Varint(((ulong)field << 3) | (uint)wireType);

    private void Varint(ulong value)
    {
        var span = _bytes.GetSpan(10);
        int length = 0;
        while (value >= 0x80)
        {
            span[length++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[length++] = (byte)value;
        _bytes.Advance(length);
    }
}
