using System.Buffers;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Switchboard.Node.Streaming;

/// <summary>
/// The server side of Kubernetes' remote-command WebSocket (the channel protocol of exec and attach): one message per
/// write, its first byte the channel (0 stdin, 1 stdout, 2 stderr, 3 error/Status, 4 resize, 255 half-close in v5), or
/// in the base64 variants a text message of <c>'0'+channel</c> then base64. Sends may come from several pumps at once,
/// so they are serialised here; the receive loop never waits on the program (see <see cref="RemoteCommand"/>).
/// </summary>
internal sealed class ChannelSession : IDisposable
{
    public const byte StdinChannel = 0;
    public const byte StdoutChannel = 1;
    public const byte StderrChannel = 2;
    public const byte ErrorChannel = 3;
    public const byte ResizeChannel = 4;
    public const byte CloseChannel = 255;

    /// <summary>The subprotocols served, newest first; a client offering several gets the first of its own list that is here.</summary>
    private static readonly string[] Protocols = ["v5.channel.k8s.io", "v4.channel.k8s.io", "v4.base64.channel.k8s.io", "base64.channel.k8s.io", "channel.k8s.io"];

    private readonly WebSocket _socket;
    private readonly SemaphoreSlim _send = new(1, 1);

    private ChannelSession(WebSocket socket, string protocol)
    {
        _socket = socket;
        Base64 = protocol.Contains("base64", StringComparison.Ordinal);
        StatusJson = protocol.StartsWith("v4.", StringComparison.Ordinal) || protocol.StartsWith("v5.", StringComparison.Ordinal);
    }

    private bool Base64 { get; }

    /// <summary>v4 and v5 report the end as a Status JSON; older versions as plain text, and nothing on success.</summary>
    private bool StatusJson { get; }

    /// <summary>The subprotocol to accept for <paramref name="requested"/>, "" for none, or null when none offered is served.</summary>
    public static string? Choose(IList<string> requested)
    {
        ArgumentNullException.ThrowIfNull(requested);
        return requested.Count == 0 ? "" : requested.FirstOrDefault(p => Protocols.Contains(p, StringComparer.Ordinal));
    }

    /// <summary>Accepts the upgrade of <paramref name="context"/> (a WebSocket request whose protocol <see cref="Choose"/> found).</summary>
    public static async Task<ChannelSession> AcceptAsync(HttpContext context, string protocol)
    {
        ArgumentNullException.ThrowIfNull(context);
        var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { SubProtocol = protocol.Length == 0 ? null : protocol });
        return new ChannelSession(socket, protocol);
    }

    /// <summary>Sends <paramref name="frame"/> on <paramref name="channel"/>: its first byte is room for the channel byte, the data follows (binary protocols write the channel in place, no copy).</summary>
    public async ValueTask SendAsync(byte channel, Memory<byte> frame, CancellationToken cancellationToken)
    {
        await _send.WaitAsync(cancellationToken);
        try
        {
            if (Base64)
            {
                string text = (char)('0' + channel) + Convert.ToBase64String(frame.Span[1..]);
                await _socket.SendAsync(Encoding.ASCII.GetBytes(text), WebSocketMessageType.Text, true, cancellationToken);
            }
            else
            {
                frame.Span[0] = channel;
                await _socket.SendAsync(frame, WebSocketMessageType.Binary, true, cancellationToken);
            }
        }
        finally
        {
            _send.Release();
        }
    }

    /// <summary>Sends a copy of <paramref name="data"/> as one message on <paramref name="channel"/>.</summary>
    public ValueTask SendCopyAsync(byte channel, ReadOnlySpan<byte> data, CancellationToken cancellationToken)
    {
        byte[] frame = new byte[data.Length + 1];
        data.CopyTo(frame.AsSpan(1));
        return SendAsync(channel, frame.AsMemory(), cancellationToken);
    }

    /// <summary>
    /// Receives until the client closes: each message's channel and payload go to <paramref name="onMessage"/>, which
    /// must not wait on the program. Reading never stops while the session lives, so the client's pings are answered.
    /// </summary>
    public async Task ReceiveAsync(Func<byte, ReadOnlyMemory<byte>, ValueTask> onMessage, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(onMessage);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (true)
            {
                int filled = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (filled == buffer.Length)
                    {
                        byte[] larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, filled).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    result = await _socket.ReceiveAsync(buffer.AsMemory(filled), cancellationToken);
                    filled += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                var message = buffer.AsMemory(0, filled);
                if (result.MessageType == WebSocketMessageType.Text && Base64)
                {
                    if (filled == 0)
                    {
                        continue;
                    }

                    byte channel = (byte)(message.Span[0] - '0');
                    byte[] decoded = Convert.FromBase64String(Encoding.ASCII.GetString(message.Span[1..]));
                    await onMessage(channel, decoded);
                }
                else if (filled > 0)
                {
                    await onMessage(message.Span[0], message[1..]);
                }
            }
        }
        catch (WebSocketException)
        {
            // The client went away without a close: the session ends as if it had closed.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Ends the session: the program's end on the error channel (v4/v5: a Status, Success or NonZeroExitCode with the
    /// ExitCode cause, or Failure with <paramref name="error"/>; older protocols: plain text, none on success), then Close 1000.
    /// </summary>
    public async Task FinishAsync(int exitCode, string? error, CancellationToken cancellationToken)
    {
        try
        {
            if (StatusJson)
            {
                await SendCopyAsync(ErrorChannel, Encoding.UTF8.GetBytes(Status(exitCode, error).ToJsonString()), cancellationToken);
            }
            else if (error is not null || exitCode != 0)
            {
                await SendCopyAsync(ErrorChannel, Encoding.UTF8.GetBytes(error ?? ExitMessage(exitCode)), cancellationToken);
            }

            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
        }
        catch (WebSocketException)
        {
            // The client is already gone: nobody to tell.
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _send.Dispose();
    }

    /// <summary>The resize message's size: <c>{"Width":W,"Height":H}</c> (client-go writes Go's field names; read case-insensitively).</summary>
    public static (ushort Width, ushort Height)? ParseSize(ReadOnlySpan<byte> payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload.ToArray());
            ushort width = 0, height = 0;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name.Equals("width", StringComparison.OrdinalIgnoreCase))
                {
                    width = property.Value.GetUInt16();
                }
                else if (property.Name.Equals("height", StringComparison.OrdinalIgnoreCase))
                {
                    height = property.Value.GetUInt16();
                }
            }

            return (width, height);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string ExitMessage(int exitCode) =>
        string.Create(CultureInfo.InvariantCulture, $"command terminated with non-zero exit code: exit status {exitCode}");

    private static JsonObject Status(int exitCode, string? error)
    {
        if (error is not null)
        {
            return new JsonObject { ["metadata"] = new JsonObject(), ["status"] = "Failure", ["message"] = error, ["reason"] = "InternalError", ["code"] = 500 };
        }

        return exitCode == 0
            ? new JsonObject { ["metadata"] = new JsonObject(), ["status"] = "Success" }
            : new JsonObject
            {
                ["metadata"] = new JsonObject(),
                ["status"] = "Failure",
                ["message"] = ExitMessage(exitCode),
                ["reason"] = "NonZeroExitCode",
                ["details"] = new JsonObject
                {
                    ["causes"] = new JsonArray(new JsonObject { ["reason"] = "ExitCode", ["message"] = exitCode.ToString(CultureInfo.InvariantCulture) }),
                },
            };
    }
}
