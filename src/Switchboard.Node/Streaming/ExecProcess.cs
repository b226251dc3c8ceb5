using System.Buffers;
using System.Diagnostics;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Switchboard.Node.Runtime;

namespace Switchboard.Node.Streaming;

/// <summary>
/// A command exec runs in a container: a real process in the container's network, mount (its own, pivoted into the
/// pod's root) and UTS namespaces, with its env, workingDir, user and groups from the instance's spec. Without a tty its
/// stdout and stderr are pipes read in large chunks; with one it runs on a <see cref="Pty"/> as the controlling
/// terminal of a session of its own, so echo, line editing, Ctrl-C and resizes behave as at a console.
/// </summary>
internal sealed partial class ExecProcess : IStreamTarget
{
    private const int ChunkSize = 256 * 1024;
    private const int SigHup = 1;
    private const int FSetPipeSize = 1031;

    // setpriv (if any) has run: cd to the container's working directory as its user, then become the command.
    private const string InWorkingDirectory = "cd \"$0\" && exec \"$@\"";

    private readonly Process _process;
    private readonly Pty? _pty;
    private readonly SafeFileHandle? _slave;
    private readonly Stream? _stdin;
    private readonly StreamOptions _options;
    private bool _disposed;

    private ExecProcess(Process process, Pty? pty, SafeFileHandle? slave, StreamOptions options)
    {
        _process = process;
        _pty = pty;
        _slave = slave;
        _options = options;
        if (pty is null)
        {
            _stdin = process.StandardInput.BaseStream;
            if (!options.Stdin)
            {
                _stdin.Dispose();
                _stdin = null;
            }
        }
    }

    /// <summary>Starts <paramref name="options"/>' command in the container instance whose files are <paramref name="files"/> and whose program runs as <paramref name="pid"/>.</summary>
    public static ExecProcess Start(InstanceFiles files, int pid, StreamOptions options)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(options);
        var spec = ContainerSpec.Read(files.Spec);
        var target = new ExecTarget(pid, spec.RunAsUser, spec.RunAsGroup, spec.Groups);
        List<string> argv = [HostTools.Require("nsenter"), .. target.NsenterArgs(), "sh", "-c", InWorkingDirectory, spec.WorkingDir, .. options.Command];
        Pty? pty = options.Tty ? Pty.Open() : null;
        SafeFileHandle? slave = null;
        try
        {
            slave = pty?.OpenSlave();
            IReadOnlyList<string> command = pty is null ? argv : Pty.SessionArgv(pty.SlavePath, argv);
            var info = ContainerProcessStart.Info(command, spec.Env);

            if (pty is not null)
            {
                // As container runtimes do for a terminal: programs need TERM to drive it.
                info.Environment.TryAdd("TERM", "xterm");
            }

            var process = Process.Start(info) ?? throw new InvalidOperationException($"{command[0]} did not start");
            if (pty is null)
            {
                WidenPipe(process.StandardOutput.BaseStream);
            }
            else
            {
                // The launcher moved its stdio to the terminal; these pipes carry nothing.
                process.StandardInput.Dispose();
                process.StandardOutput.Dispose();
                process.StandardError.Dispose();
            }

            return new ExecProcess(process, pty, slave, options);
        }
        catch
        {
            slave?.Dispose();
            pty?.Dispose();
            throw;
        }
    }

    public async ValueTask WriteInputAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_pty is { } pty)
        {
            await Task.Run(() => pty.Write(data.Span), cancellationToken);
        }
        else if (_stdin is not null)
        {
            await _stdin.WriteAsync(data, cancellationToken);
            await _stdin.FlushAsync(cancellationToken);
        }
    }

    public async ValueTask CloseInputAsync(CancellationToken cancellationToken)
    {
        if (_pty is { } pty)
        {
            // A terminal has no half-close: end-of-file is the VEOF character, as typing Ctrl-D.
            await Task.Run(() => pty.Write([4]), cancellationToken);
        }
        else if (_stdin is not null)
        {
            await _stdin.DisposeAsync();
        }
    }

    public ValueTask ResizeAsync(ushort width, ushort height, CancellationToken cancellationToken)
    {
        _pty?.Resize(width, height);
        return ValueTask.CompletedTask;
    }

    public async Task<int> RunAsync(ChannelSession session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (_pty is { } pty)
        {
            var output = Task.Factory.StartNew(() => CopyTerminal(pty, session, _options.Stdout, cancellationToken),
                cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            await _process.WaitForExitAsync(cancellationToken);
            // Ours was the last hold on the terminal besides the program's: the rest of its output, then end-of-file.
            _slave!.Dispose();
            await output;
        }
        else
        {
            await Task.WhenAll(
                CopyPipeAsync(_process.StandardOutput.BaseStream, session, _options.Stdout ? ChannelSession.StdoutChannel : null, cancellationToken),
                CopyPipeAsync(_process.StandardError.BaseStream, session, _options.Stderr ? ChannelSession.StderrChannel : null, cancellationToken));
            await _process.WaitForExitAsync(cancellationToken);
        }

        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited && _pty is not null)
        {
            // The client left a terminal session: hang it up, as closing a terminal does.
            Signals.KillGroup(_process.Id, SigHup);
        }

        if (_stdin is not null)
        {
            await _stdin.DisposeAsync();
        }

        if (_pty is null)
        {
            _process.StandardOutput.Dispose();
            _process.StandardError.Dispose();
        }

        _slave?.Dispose();
        _pty?.Dispose();
        _process.Dispose();
    }

    /// <summary>
    /// Grows the output pipe from 64 KiB to <see cref="ChunkSize"/> (F_SETPIPE_SZ): a program writing bulk output
    /// (<c>cat</c>, <c>tar cf -</c>) then fills whole chunks between reads, and each becomes one large message.
    /// Best effort: beyond /proc/sys/fs/pipe-max-size the pipe keeps its size.
    /// </summary>
    private static void WidenPipe(Stream pipe)
    {
        if (pipe is PipeStream { SafePipeHandle: var handle })
        {
            _ = Fcntl(handle, FSetPipeSize, ChunkSize);
        }
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(SafePipeHandle fd, int command, int argument);

    /// <summary>Copies a pipe to <paramref name="channel"/> (drained and dropped when that stream was not asked for).</summary>
    private static async Task CopyPipeAsync(Stream pipe, ChannelSession session, byte? channel, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkSize + 1);
        try
        {
            int read;
            while ((read = await pipe.ReadAsync(buffer.AsMemory(1, ChunkSize), cancellationToken)) > 0)
            {
                if (channel is { } ch)
                {
                    await session.SendAsync(ch, buffer.AsMemory(0, read + 1), cancellationToken);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Copies the terminal's output to stdout, on a thread of its own (the master is read with blocking calls).</summary>
    private static void CopyTerminal(Pty pty, ChannelSession session, bool stdout, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkSize + 1);
        try
        {
            int read;
            while ((read = pty.Read(buffer.AsSpan(1, ChunkSize))) > 0)
            {
                if (stdout)
                {
                    session.SendAsync(ChannelSession.StdoutChannel, buffer.AsMemory(0, read + 1), cancellationToken).AsTask().GetAwaiter().GetResult();
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
