using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Protobuf;

/// <summary>One field of a protobuf message as it is on the wire: varint fields carry <see cref="Number"/>, length-delimited ones <see cref="Bytes"/>.</summary>
internal readonly record struct WireField(int Field, int WireType, ulong Number, ReadOnlyMemory<byte> Bytes)
{
    public const int VarintType = 0;
    public const int LengthDelimitedType = 2;

    /// <summary>A field whose value is the zero of its wire type (0, or no bytes): what gogo-protobuf writes for unset non-pointer fields.</summary>
    public bool IsZero => WireType == VarintType ? Number == 0 : Bytes.IsEmpty;
}

/// <summary>Splits a protobuf message into its fields; malformed input is a 400, as kube-apiserver answers.</summary>
internal static class ProtobufReader
{
    public static List<WireField> Fields(ReadOnlyMemory<byte> message)
    {
        var fields = new List<WireField>();
        var span = message.Span;
        int at = 0;
        while (at < span.Length)
        {
            ulong tag = Varint(span, ref at);
            int field = (int)(tag >> 3);
            int wireType = (int)(tag & 7);
            switch (wireType)
            {
                case WireField.VarintType:
                    fields.Add(new WireField(field, wireType, Varint(span, ref at), default));
                    break;
                case WireField.LengthDelimitedType:
                    ulong length = Varint(span, ref at);
                    if (length > (ulong)(span.Length - at))
                    {
                        throw ApiException.BadRequest("truncated protobuf body");
                    }

                    fields.Add(new WireField(field, wireType, 0, message.Slice(at, (int)length)));
                    at += (int)length;
                    break;
                case 1 or 5:
                    int size = wireType == 1 ? 8 : 4;
                    if (size > span.Length - at)
                    {
                        throw ApiException.BadRequest("truncated protobuf body");
                    }

                    fields.Add(new WireField(field, wireType, 0, message.Slice(at, size)));
                    at += size;
                    break;
                default:
                    throw ApiException.BadRequest($"malformed protobuf body: wire type {wireType} in field {field}");
            }
        }

        return fields;
    }

    private static ulong Varint(ReadOnlySpan<byte> data, ref int at)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (at >= data.Length)
            {
                throw ApiException.BadRequest("truncated protobuf body");
            }

            byte b = data[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw ApiException.BadRequest("malformed protobuf varint");
    }
}
