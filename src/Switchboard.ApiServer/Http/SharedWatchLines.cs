using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using k8s;
using k8s.Models;
using Switchboard.ApiServer.Registry;
using Switchboard.Kube.Serialization;

namespace Switchboard.ApiServer.Http;

/// <summary>
/// Encoded watch lines shared by every watch that sees the same object: the registry hands each of them the same
/// decoded object (<see cref="SharedWatchObjects{T}"/>), so a change is encoded once per event type, not once per watcher.
/// </summary>
internal static class SharedWatchLines<T>
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private static readonly ConditionalWeakTable<T, Lines> Encoded = new();

    /// <summary>The JSON line of a watch event of <paramref name="type"/> about <paramref name="obj"/>.</summary>
    public static byte[] Line(WatchEventType type, T obj) => Encoded.GetValue(obj, _ => new Lines()).Get(type, obj);

    /// <summary>An object event's type as the watch protocol spells it.</summary>
    public static string TypeName(WatchEventType type) => type switch
    {
        WatchEventType.Added => "ADDED",
        WatchEventType.Modified => "MODIFIED",
        WatchEventType.Deleted => "DELETED",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "an object event is Added, Modified or Deleted"),
    };

    private sealed class Lines
    {
        private readonly byte[]?[] _byType = new byte[]?[3];

        public byte[] Get(WatchEventType type, T obj)
        {
            // TypeName refuses all but Added, Modified and Deleted: 0, 1 and 2.
            string name = TypeName(type);
            lock (_byType)
            {
                return _byType[(int)type] ??= Encode(name, obj);
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
