using System.Buffers;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Switchboard.Node.Kubelet;
using Switchboard.Node.Server;

namespace Switchboard.Node.Streaming;

/// <summary>
/// kubelet's exec and attach endpoints over the channel WebSocket: finds the running container (Status errors before
/// the upgrade, as kubelet answers), accepts the upgrade, sends the ready message, and bridges the client and the
/// target until the program ends, then reports its end on the error channel and closes with 1000.
/// </summary>
internal sealed partial class RemoteCommand(NodeContainers containers, Func<ContainerState, StreamOptions, IStreamTarget> start, bool exec, ILogger logger)
{
    /// <summary>kubelet's <c>/exec/{namespace}/{pod}[/{uid}]/{container}?command=…</c>: a new process in the container.</summary>
    public static RemoteCommand Exec(NodeContainers containers, ILogger logger) =>
        new(containers, (container, options) => ExecProcess.Start(container.Instance!.Files, container.Instance.Pid, options), exec: true, logger);

    /// <summary>kubelet's <c>/attach/{namespace}/{pod}[/{uid}]/{container}</c>: the container's main process, through its monitor.</summary>
    public static RemoteCommand Attach(NodeContainers containers, ILogger logger) =>
        new(containers, (container, options) => ContainerAttach.Connect(container.Instance!.Files.Directory, options), exec: false, logger);

    /// <summary>Stdin messages queued for a program that is not reading; past this the socket's reader waits (about 8 MiB of kubectl's 32 KiB writes).</summary>
    private const int InputBacklog = 256;

    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(5);

    public async Task ServeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (await containers.ResolveAsync(context, NodeContainers.Segments(context)) is not { } found)
        {
            return;
        }

        if (!found.Container.Running)
        {
            await NodeContainers.WriteStatusAsync(context, StatusCodes.Status500InternalServerError, "InternalError", $"container not found (\"{found.Container.Name}\")");
            return;
        }

        var (options, problem) = StreamOptions.Parse(context.Request);
        if (options is not null && exec && options.Command.Count == 0)
        {
            problem = "you must specify a command: no command parameter in the request";
            options = null;
        }

        if (options is null)
        {
            await NodeContainers.WriteStatusAsync(context, StatusCodes.Status400BadRequest, "BadRequest", problem!);
            return;
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            // kubectl tries SPDY only when the WebSocket upgrade was refused, which a valid request never is here.
            await NodeContainers.WriteStatusAsync(context, StatusCodes.Status400BadRequest, "BadRequest",
                "Upgrade request required: this node serves exec and attach over WebSocket (v5.channel.k8s.io, v4.channel.k8s.io, channel.k8s.io, base64 variants), not SPDY/3.1");
            return;
        }

        if (ChannelSession.Choose(context.WebSockets.WebSocketRequestedProtocols) is not { } protocol)
        {
            await NodeContainers.WriteStatusAsync(context, StatusCodes.Status400BadRequest, "BadRequest",
                $"unable to upgrade: none of the subprotocols [{string.Join(", ", context.WebSockets.WebSocketRequestedProtocols)}] is served; want v5.channel.k8s.io or v4.channel.k8s.io");
            return;
        }

        using var session = await ChannelSession.AcceptAsync(context, protocol);
        var aborted = context.RequestAborted;
        await session.SendCopyAsync(options.Stdout ? ChannelSession.StdoutChannel : options.Stderr ? ChannelSession.StderrChannel : ChannelSession.ErrorChannel, [], aborted);
        IStreamTarget target;
        try
        {
            target = start(found.Container, options);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or System.ComponentModel.Win32Exception or UnauthorizedAccessException or System.Net.Sockets.SocketException)
        {
            LogStartFailed(logger, context.Request.Path, e.Message);
            await session.FinishAsync(0, e.Message, aborted);
            return;
        }

        await using (target)
        {
            await BridgeAsync(session, target, options, aborted);
        }
    }

    private static async Task BridgeAsync(ChannelSession session, IStreamTarget target, StreamOptions options, CancellationToken aborted)
    {
        using var gone = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        var input = Channel.CreateBounded<InputEvent>(new BoundedChannelOptions(InputBacklog) { SingleReader = true, SingleWriter = true });
        var receive = ReceiveAsync(session, input.Writer, options, gone.Token);
        var pump = PumpInputAsync(input.Reader, target, gone.Token);
        var run = target.RunAsync(session, gone.Token);
        if (await Task.WhenAny(run, receive) == receive && !run.IsCompleted)
        {
            // The client went away before the program ended: nobody to report to. Disposing the target lets go of the
            // program (exec: its pipes close, its terminal hangs up; attach: the container runs on).
            await gone.CancelAsync();
            await target.DisposeAsync();
            await Task.WhenAll(Quietly(run), Quietly(pump));
            return;
        }

        int exitCode = await run;
        await session.FinishAsync(exitCode, null, aborted);
        // The client answers the close; it may also just drop the connection.
        await Task.WhenAny(receive, Task.Delay(CloseWait, aborted));
        await gone.CancelAsync();
        await Task.WhenAll(Quietly(receive), Quietly(pump));
    }

    private static async Task ReceiveAsync(ChannelSession session, ChannelWriter<InputEvent> input, StreamOptions options, CancellationToken cancellationToken)
    {
        try
        {
            await session.ReceiveAsync(async (channel, payload) =>
            {
                switch (channel)
                {
                    case ChannelSession.StdinChannel when options.Stdin && payload.Length > 0:
                        byte[] copy = ArrayPool<byte>.Shared.Rent(payload.Length);
                        payload.CopyTo(copy);
                        await input.WriteAsync(new InputEvent(InputKind.Data, copy, payload.Length), cancellationToken);
                        break;
                    case ChannelSession.CloseChannel when payload.Length == 1 && payload.Span[0] == ChannelSession.StdinChannel && options.Stdin:
                        await input.WriteAsync(new InputEvent(InputKind.Close, null, 0), cancellationToken);
                        break;
                    case ChannelSession.ResizeChannel when options.Tty && ChannelSession.ParseSize(payload.Span) is { } size:
                        await input.WriteAsync(new InputEvent(InputKind.Resize, null, size.Width << 16 | size.Height), cancellationToken);
                        break;
                    default:
                        // Unrequested or unknown channels are dropped, as kubelet does.
                        break;
                }
            }, cancellationToken);
        }
        finally
        {
            input.TryComplete();
        }
    }

    private static async Task PumpInputAsync(ChannelReader<InputEvent> input, IStreamTarget target, CancellationToken cancellationToken)
    {
        await foreach (var item in input.ReadAllAsync(cancellationToken))
        {
            try
            {
                switch (item.Kind)
                {
                    case InputKind.Data:
                        await target.WriteInputAsync(item.Data.AsMemory(0, item.Length), cancellationToken);
                        break;
                    case InputKind.Close:
                        await target.CloseInputAsync(cancellationToken);
                        break;
                    case InputKind.Resize:
                        await target.ResizeAsync((ushort)(item.Length >> 16), (ushort)item.Length, cancellationToken);
                        break;
                }
            }
            catch (IOException)
            {
                // The program stopped reading (it exited or closed its stdin): the rest of the input has nowhere to go.
            }
            finally
            {
                if (item.Data is not null)
                {
                    ArrayPool<byte>.Shared.Return(item.Data);
                }
            }
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or System.Net.WebSockets.WebSocketException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            // The session is over; what was in flight is dropped.
        }
    }

    [LoggerMessage(EventId = 5060, Level = LogLevel.Warning, Message = "Stream {Path} could not start: {Error}")]
    private static partial void LogStartFailed(ILogger logger, string path, string error);

    /// <summary>What one client message asks of the target.</summary>
    private enum InputKind
    {
        Data,
        Close,
        Resize,
    }

    /// <summary>One thing the client sent: stdin bytes (a pooled buffer), stdin's close, or a size (width and height packed in Length).</summary>
    private readonly record struct InputEvent(InputKind Kind, byte[]? Data, int Length);
}
