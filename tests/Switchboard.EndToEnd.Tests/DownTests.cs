using System.Globalization;
using Switchboard.Testing;

namespace Switchboard.EndToEnd.Tests;

/// <summary>
/// <c>switchboard down</c> signals only the process that really is <c>switchboard up</c> for the data dir: the holder of
/// the pid file's lock, started when the file says. Decoys are real processes whose command lines name switchboard.
/// </summary>
public sealed class DownTests : IDisposable
{
    private readonly TempDirectory _dir = new("sb-e2e-down-");

    private string PidFile => _dir.File("switchboard.pid");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task An_unrelated_process_that_got_the_pid_is_never_signalled()
    {
        // What a pid file left by kill -9 names once the kernel has given its pid to another program.
        using var decoy = RunningProcess.Start("bash", ["-c", "exec -a switchboard sleep 300"]);
        File.WriteAllText(PidFile, decoy.Id.ToString(CultureInfo.InvariantCulture));

        var down = (await SwitchboardUp.RunAsync("down", "--data-dir", _dir.Path)).EnsureSuccess("switchboard down");

        Assert.Contains($"switchboard is not running in {_dir.Path}", down.Stdout, StringComparison.Ordinal);
        Assert.False(decoy.HasExited, "down signalled a process that is not switchboard up");
    }

    [Fact]
    public async Task A_process_holding_the_lock_but_started_later_than_the_file_says_is_never_signalled()
    {
        // flock(1) takes the lock and, not forking, becomes its command: once that runs, the lock is held.
        using var decoy = RunningProcess.Start("flock", ["--no-fork", PidFile, "bash", "-c", "exec -a switchboard sleep 300"]);
        await Eventually.WaitAsync(() => Task.FromResult(File.ReadAllText($"/proc/{decoy.Id}/cmdline").StartsWith("switchboard", StringComparison.Ordinal)), "flock to take its lock and run its command");

        // Written by a shell: a FileStream would want a lock of its own on the file and fail.
        (await ChildProcess.RunAsync("sh", ["-c", "echo \"$0 1\" > \"$1\"", decoy.Id.ToString(CultureInfo.InvariantCulture), PidFile])).EnsureSuccess("writing the pid file");

        var down = (await SwitchboardUp.RunAsync("down", "--data-dir", _dir.Path)).EnsureSuccess("switchboard down");

        Assert.Contains("its start time differs", down.Stdout, StringComparison.Ordinal);
        Assert.False(decoy.HasExited, "down signalled a process whose start time is not the recorded one");
    }

    [Fact]
    public async Task After_kill_9_the_stale_pid_file_is_named_and_up_starts_again_then_down_stops_it()
    {
        await using var up = await SwitchboardUp.StartAsync("--nodes", "0");
        // Read by cat: a FileStream would want a lock of its own on the file up holds locked.
        string record = (await ChildProcess.RunAsync("cat", [Path.Combine(up.DataDirectory, "switchboard.pid")])).EnsureSuccess("cat").Stdout;
        int pid = int.Parse(record.Split(' ')[0], CultureInfo.InvariantCulture);

        await up.KillAsync();
        var stale = (await SwitchboardUp.RunAsync("down", "--data-dir", up.DataDirectory)).EnsureSuccess("switchboard down");
        Assert.Contains($"pid {pid} of the pid file is not running", stale.Stdout, StringComparison.Ordinal);

        await up.RestartAsync();
        var second = (await SwitchboardUp.RunAsync("up", "--data-dir", up.DataDirectory, "--nodes", "0", "--api-port", FreePort.Next().ToString(CultureInfo.InvariantCulture)))
            .ExitCode;
        Assert.Equal(1, second);

        var stopped = (await SwitchboardUp.RunAsync("down", "--data-dir", up.DataDirectory)).EnsureSuccess("switchboard down");
        Assert.Contains("stopped switchboard (pid ", stopped.Stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(up.DataDirectory, "switchboard.pid")));
    }
}
