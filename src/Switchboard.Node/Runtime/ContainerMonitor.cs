using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Switchboard.Node.Resources;
using Switchboard.Node.Sandbox;

namespace Switchboard.Node.Runtime;

/// <summary>
/// A container's monitor (what conmon is to CRI-O), run for each container by the node's <see cref="MonitorHost"/>,
/// whose process survives the agent: starts the container inside the pod holder's namespaces as a new process group (on a terminal of its
/// own when the container asks for a tty, with stdin kept open when it asks for stdin), copies its output to the CRI
/// log and to attached clients (<see cref="AttachServer"/>), and records its pid and then its exit.
/// </summary>
internal static class ContainerMonitor
{

    /// <summary>Runs the instance described in <paramref name="instanceDirectory"/>/spec.json to its end; 1 when it could not start.</summary>
    public static async Task<int> RunAsync(string instanceDirectory)
    {
        var files = new InstanceFiles(instanceDirectory);
        var spec = ContainerSpec.Read(files.Spec);
        var time = TimeProvider.System;
        Directory.CreateDirectory(Path.GetDirectoryName(spec.LogPath)!);
        using var log = new CriLogWriter(new RotatingLogFile(spec.LogPath, spec.LogMaxBytes, spec.LogMaxFiles, time), time);
        // A tty container runs on a terminal the monitor holds (its output is the log's stdout); others on pipes.
        using var pty = spec.Tty ? Pty.Open() : null;
        var slave = pty?.OpenSlave();
        IReadOnlyList<string> command = pty is null ? ["setsid", .. Argv(spec)] : Pty.SessionArgv(pty.SlavePath, Argv(spec));
        var info = ContainerProcessStart.Info(command, spec.Env);

        Process process;
        try
        {
            process = await SandboxNamespaces.InPodAsync(spec.HolderPid, () =>
            {
                ContainerSetup.EnterRoot(spec.Root, spec.Mounts, spec.WorkingDir);
                return Process.Start(info);
            }) ?? throw new Win32Exception($"{command[0]} did not start");
        }
        catch (Exception e) when (e is Win32Exception or IOException)
        {
            files.WriteExit(new ExitRecord(128, time.GetUtcNow(), "StartError", e.Message));
            return 1;
        }

        using (process)
        {
            IAttachedProgram program;
            Task copies;
            AttachServer attach;
            if (pty is not null)
            {
                // The launcher moved the container's stdio to the terminal; these pipes carry nothing.
                process.StandardInput.Dispose();
                process.StandardOutput.Dispose();
                process.StandardError.Dispose();
                program = new TerminalInput(pty);
                attach = AttachServer.Start(instanceDirectory, program, spec.StdinOnce);
                copies = log.CopyAsync(buffer => ReadTerminalAsync(pty, buffer, attach), "stdout");
            }
            else
            {
                if (!spec.Stdin)
                {
                    process.StandardInput.Close();
                }

                program = new PipeInput(spec.Stdin ? process.StandardInput.BaseStream : null);
                attach = AttachServer.Start(instanceDirectory, program, spec.StdinOnce);
                copies = Task.WhenAll(
                    log.CopyAsync(buffer => ReadPipeAsync(process.StandardOutput.BaseStream, buffer, attach, 1), "stdout"),
                    log.CopyAsync(buffer => ReadPipeAsync(process.StandardError.BaseStream, buffer, attach, 2), "stderr"));
            }

            await using (attach)
            {
                files.WritePid(process.Id, time.GetUtcNow());
                await process.WaitForExitAsync();
                var finished = time.GetUtcNow();
                // The container held the terminal's other end; with ours gone too, its reader gets the rest, then the end.
                slave?.Dispose();

                // Output still buffered in the pipes belongs in the log; a daemonised child holding them open must not block the exit record.
                await Task.WhenAny(copies, Task.Delay(TimeSpan.FromSeconds(1), time));
                int code = process.ExitCode;
                bool oomKilled = spec.Cgroup is { } cgroup && CgroupFiles.OomKills(cgroup.Memory) > 0;
                await RemoveCgroupAsync(spec.Cgroup);
                files.WriteExit(new ExitRecord(code, finished, oomKilled ? "OOMKilled" : code == 0 ? "Completed" : "Error", null));
                return 0;
            }
        }
    }

    private static async ValueTask<int> ReadPipeAsync(Stream pipe, Memory<byte> buffer, AttachServer attach, byte channel)
    {
        int read = await pipe.ReadAsync(buffer);
        attach.Broadcast(channel, buffer.Span[..read]);
        return read;
    }

    /// <summary>The terminal is read with blocking calls, on the thread pool.</summary>
    private static async ValueTask<int> ReadTerminalAsync(Pty pty, Memory<byte> buffer, AttachServer attach)
    {
        int read = await Task.Run(() => pty.Read(buffer.Span));
        attach.Broadcast(1, buffer.Span[..read]);
        return read;
    }

    /// <summary>
    /// The container ended: what it left behind in its cgroup is killed (as a PID namespace's end would) and the cgroup
    /// removed. The agent removes whatever this leaves with the pod.
    /// </summary>
    private static async Task RemoveCgroupAsync(ContainerCgroup? cgroup)
    {
        foreach (string directory in cgroup?.Directories ?? [])
        {
            try
            {
                await CgroupFiles.RemoveTreeAsync(directory);
            }
            catch (IOException)
            {
                // Still busy after the timeout: the pod's removal tries again.
            }
        }
    }

    /// <summary>
    /// setsid's arguments, started already in the pod's namespaces and root (<see cref="ContainerSetup.EnterRoot"/>): join the
    /// container's cgroups when it has any, drop privileges if asked, exec.
    /// </summary>
    private static List<string> Argv(ContainerSpec spec)
    {
        var argv = spec.Cgroup is { } cgroup
            ? new List<string> { "sh", "-c", ContainerSetup.JoinCgroupsScript, "sh", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), string.Join(' ', cgroup.Directories) }
            : [];
        argv.AddRange(ExecTarget.SetprivArgs(spec.RunAsUser, spec.RunAsGroup, spec.Groups));
        argv.AddRange(spec.Argv);
        return argv;
    }
}

/// <summary>A container's stdin as a pipe the monitor kept open (stdin containers), or none; writes of several attached clients are serialised.</summary>
internal sealed class PipeInput(Stream? stdin) : IAttachedProgram
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private Stream? _stdin = stdin;

    public async ValueTask WriteInputAsync(ReadOnlyMemory<byte> data)
    {
        await _lock.WaitAsync();
        try
        {
            if (_stdin is not null)
            {
                await _stdin.WriteAsync(data);
                await _stdin.FlushAsync();
            }
        }
        catch (IOException)
        {
            // The container closed its stdin or exited.
        }
        finally
        {
            _lock.Release();
        }
    }

    public async ValueTask CloseInputAsync()
    {
        await _lock.WaitAsync();
        try
        {
            if (_stdin is not null)
            {
                await _stdin.DisposeAsync();
                _stdin = null;
            }
        }
        catch (IOException)
        {
            // Already gone.
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Resize(ushort width, ushort height)
    {
        // Pipes have no size.
    }
}

/// <summary>A tty container's terminal: input is typed into it, its end-of-file is VEOF (Ctrl-D), resizes go to the line discipline.</summary>
internal sealed class TerminalInput(Pty pty) : IAttachedProgram
{
    public async ValueTask WriteInputAsync(ReadOnlyMemory<byte> data)
    {
        try
        {
            await Task.Run(() => pty.Write(data.Span));
        }
        catch (IOException)
        {
            // The container is gone.
        }
    }

    public ValueTask CloseInputAsync() => WriteInputAsync(new byte[] { 4 });

    public void Resize(ushort width, ushort height) => pty.Resize(width, height);
}
