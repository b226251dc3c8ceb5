using System.ComponentModel;
using System.Diagnostics;
using Switchboard.Node.Resources;
using System.Globalization;

namespace Switchboard.Node.Runtime;

/// <summary>
/// The per-container monitor (what conmon is to CRI-O), run as its own process in its own session so it survives
/// the agent: starts the container inside the pod holder's namespaces as a new process group, copies its output
/// to the CRI log, and records its pid and then its exit.
/// </summary>
public static class ContainerMonitor
{
    private static readonly TimeSpan SetupPoll = TimeSpan.FromMilliseconds(2);

    /// <summary>Runs the instance described in <paramref name="instanceDirectory"/>/spec.json; returns the monitor's exit code.</summary>
    public static async Task<int> RunAsync(string instanceDirectory)
    {
        var files = new InstanceFiles(instanceDirectory);
        var spec = ContainerSpec.Read(files.Spec);
        var time = TimeProvider.System;
        Directory.CreateDirectory(Path.GetDirectoryName(spec.LogPath)!);
        using var log = new CriLogWriter(new RotatingLogFile(spec.LogPath, spec.LogMaxBytes, spec.LogMaxFiles, time), time);
        var info = new ProcessStartInfo("setsid")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in Argv(spec, files))
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Clear();
        foreach (var (name, value) in spec.Env)
        {
            info.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new Win32Exception("setsid did not start");
        }
        catch (Win32Exception e)
        {
            files.WriteExit(new ExitRecord(128, time.GetUtcNow(), "StartError", e.Message));
            return 1;
        }

        using (process)
        {
            if (!spec.Stdin)
            {
                process.StandardInput.Close();
            }

            var copies = Task.WhenAll(
                log.CopyAsync(process.StandardOutput.BaseStream, "stdout"),
                log.CopyAsync(process.StandardError.BaseStream, "stderr"));

            // Started once its setup is done: hooks, exec probes and exec then enter its own namespace, not one on the way there.
            while (!File.Exists(files.SetupDone) && !process.HasExited)
            {
                await Task.Delay(SetupPoll, time);
            }

            files.WritePid(process.Id, time.GetUtcNow());
            await process.WaitForExitAsync();
            var finished = time.GetUtcNow();

            // Output still buffered in the pipes belongs in the log; a daemonised child holding them open must not block the exit record.
            await Task.WhenAny(copies, Task.Delay(TimeSpan.FromSeconds(1), time));
            int code = process.ExitCode;
            bool oomKilled = spec.Cgroup is { } cgroup && CgroupFiles.OomKills(cgroup.Memory) > 0;
            await RemoveCgroupAsync(spec.Cgroup);
            files.WriteExit(new ExitRecord(code, finished, oomKilled ? "OOMKilled" : code == 0 ? "Completed" : "Error", null));
            return 0;
        }
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
    /// setsid's arguments: join the container's cgroups (so its first allocation already counts), enter the holder's
    /// network and UTS namespaces and a mount namespace of the container's own (copied from the holder's), where
    /// <see cref="ContainerSetup"/> binds the volumes and pivots into the pod's root; then drop privileges if asked, exec.
    /// </summary>
    private static List<string> Argv(ContainerSpec spec, InstanceFiles files)
    {
        var argv = new List<string>();
        if (spec.Cgroup is { } cgroup)
        {
            argv.AddRange(["sh", "-c", "for d in $0; do echo $$ > \"$d/cgroup.procs\" || exit 1; done; exec \"$@\"", string.Join(' ', cgroup.Directories)]);
        }

        argv.AddRange(["nsenter", "-t", spec.HolderPid.ToString(CultureInfo.InvariantCulture), "-n", "-m", "-u", "--",
            "unshare", "--mount", "--propagation", "private", "--", "sh", "-c", ContainerSetup.Script, "sh", spec.Root, spec.WorkingDir, files.SetupDone]);
        foreach (var mount in spec.Mounts)
        {
            argv.AddRange([mount.Source, mount.Target, mount.ReadOnly ? "ro" : "rw"]);
        }

        argv.Add("--");
        argv.AddRange(ExecTarget.SetprivArgs(spec.RunAsUser, spec.RunAsGroup, spec.Groups));
        argv.AddRange(spec.Argv);
        return argv;
    }
}
