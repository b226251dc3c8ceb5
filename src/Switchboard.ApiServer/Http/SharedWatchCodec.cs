using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using k8s;
using k8s.Models;
using Switchboard.ApiServer.Registry;
using Switchboard.Kube.Serialization;
using Switchboard.Storage;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// Decoded objects and encoded watch lines shared by every watch that sees the same stored change: the store hands
/// each subscriber the same <see cref="KeyValue"/>, so N watchers of a kind (every node watching pods, say) decode
/// and encode a change once instead of N times. Shared objects are read-only.
/// </summary>
internal static class SharedWatchCodec<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private static readonly ConditionalWeakTable<KeyValue, T> Decoded = new();
    private static readonly ConditionalWeakTable<T, Lines> Encoded = new();

    public static T Decode(KeyValue kv) => Decoded.GetValue(kv, ObjectCodec.Decode<T>);

    /// <summary>
    /// The object a deletion removed, stamped with the deletion's revision as its DELETED event carries it. Keyed on
    /// the deletion's own (empty) key value, which belongs to that one event and is never decoded itself.
    /// </summary>
    public static T DecodeDeleted(WatchEvent deletion) => Decoded.GetValue(deletion.Current, _ =>
    {
        var gone = ObjectCodec.Decode<T>(deletion.Previous!);
        gone.Metadata.ResourceVersion = deletion.Revision.ToString(CultureInfo.InvariantCulture);
        return gone;
    });

    /// <summary>The JSON line of a watch event of <paramref name="type"/> about <paramref name="obj"/>.</summary>
    public static byte[] Line(string type, T obj) => Encoded.GetValue(obj, _ => new Lines()).Get(type, obj);

    private sealed class Lines
    {
        private readonly Dictionary<string, byte[]> _byType = new(StringComparer.Ordinal);

        public byte[] Get(string type, T obj)
        {
            lock (_byType)
            {
                if (!_byType.TryGetValue(type, out byte[]? line))
                {
                    _byType[type] = line = Encode(type, obj);
                }

                return line;
            }
        }

        private static byte[] Encode(string type, T obj)
        {
            var buffer = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("type", type);
                writer.WritePropertyName("object");
                ModelJson.Write(writer, obj);
                writer.WriteEndObject();
            }

            buffer.Write("\n"u8);
            return buffer.WrittenSpan.ToArray();
        }
    }
}
