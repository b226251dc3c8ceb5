using System.Text;
using System.Text.Json.Nodes;
using Switchboard.ApiServer.Errors;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// The protobuf bodies kubectl 1.32's typed clients send (e.g. <c>kubectl create namespace</c>), which have no
/// JSON fallback: the <c>k8s\0</c> magic, a runtime.Unknown envelope (typeMeta, raw), and in raw the object whose
/// field 1 is ObjectMeta. Only the metadata is decoded (name, generateName, namespace, labels, annotations):
/// enough for a Namespace, whose spec and status the server sets; other kinds with more than metadata get 415.
/// </summary>
internal static class ProtobufBody
{
    private static readonly byte[] Magic = [(byte)'k', (byte)'8', (byte)'s', 0];

    public static JsonObject Decode(ReadOnlySpan<byte> body)
    {
        if (!body.StartsWith(Magic))
        {
            throw ApiException.BadRequest("protobuf body does not start with the k8s magic number");
        }

        string? apiVersion = null, kind = null;
        byte[] raw = [];
        foreach (var (field, value) in Fields(body[Magic.Length..].ToArray()))
        {
            if (field == 1)
            {
                foreach (var (f, v) in Fields(value))
                {
                    if (f == 1)
                    {
                        apiVersion = Encoding.UTF8.GetString(v);
                    }
                    else if (f == 2)
                    {
                        kind = Encoding.UTF8.GetString(v);
                    }
                }
            }
            else if (field == 2)
            {
                raw = value;
            }
        }

        var obj = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind };
        foreach (var (field, value) in Fields(raw))
        {
            if (field == 1)
            {
                obj["metadata"] = Metadata(value);
            }
            else if (value.Length > 0 && kind != "Namespace")
            {
                throw ApiException.UnsupportedBodyMediaType("application/vnd.kubernetes.protobuf");
            }
        }

        return obj;
    }

    private static JsonObject Metadata(byte[] meta)
    {
        var result = new JsonObject();
        var labels = new JsonObject();
        var annotations = new JsonObject();
        foreach (var (field, value) in Fields(meta))
        {
            switch (field)
            {
                case 1:
                    result["name"] = Encoding.UTF8.GetString(value);
                    break;
                case 2:
                    result["generateName"] = Encoding.UTF8.GetString(value);
                    break;
                case 3:
                    result["namespace"] = Encoding.UTF8.GetString(value);
                    break;
                case 11 or 12:
                    string key = "", entry = "";
                    foreach (var (f, v) in Fields(value))
                    {
                        if (f == 1)
                        {
                            key = Encoding.UTF8.GetString(v);
                        }
                        else if (f == 2)
                        {
                            entry = Encoding.UTF8.GetString(v);
                        }
                    }

                    (field == 11 ? labels : annotations)[key] = entry;
                    break;
            }
        }

        if (labels.Count > 0)
        {
            result["labels"] = labels;
        }

        if (annotations.Count > 0)
        {
            result["annotations"] = annotations;
        }

        return result;
    }

    /// <summary>The length-delimited fields of a message (varint and fixed fields are skipped).</summary>
    private static List<(int Field, byte[] Value)> Fields(byte[] message)
    {
        var fields = new List<(int, byte[])>();
        int at = 0;
        while (at < message.Length)
        {
            ulong tag = Varint(message, ref at);
            int field = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    Varint(message, ref at);
                    break;
                case 1:
                    at += 8;
                    break;
                case 5:
                    at += 4;
                    break;
                case 2:
                    int length = (int)Varint(message, ref at);
                    if (length < 0 || at + length > message.Length)
                    {
                        throw ApiException.BadRequest("truncated protobuf body");
                    }

                    fields.Add((field, message[at..(at + length)]));
                    at += length;
                    break;
                default:
                    throw ApiException.BadRequest("malformed protobuf body");
            }
        }

        return fields;
    }

    private static ulong Varint(byte[] data, ref int at)
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
