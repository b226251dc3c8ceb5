using System.Text.Json.Serialization;

namespace Switchboard.Node.Runtime;

/// <summary>
/// The JSON of the files a container monitor reads and writes (its spec, the exit record), generated at build time:
/// a monitor is a process per container, and reflection-based serialization would spend most of its start-up CPU
/// building the serializers.
/// </summary>
[JsonSerializable(typeof(ContainerSpec))]
[JsonSerializable(typeof(ExitRecord))]
[JsonSerializable(typeof(Sandbox.SandboxState))]
internal sealed partial class RuntimeJson : JsonSerializerContext;
