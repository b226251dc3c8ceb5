using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Security;

/// <summary>
/// <c>switchboard apiserver</c> and its data dir as another local user would attack them: files are owner-only from the
/// system call that creates them (seen with strace, not after the fact), and a data dir others may write is refused.
/// </summary>
public sealed partial class DataDirectoryTests : IDisposable
{
    private static readonly string Switchboard = Path.Combine(AppContext.BaseDirectory, "switchboard.dll");
    private readonly TempDirectory _dir = new("sb-datadir-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Every_file_and_the_data_dir_are_created_owner_only_never_chmodded_afterwards()
    {
        string dataDir = _dir.File("data");
        string trace = _dir.File("trace");
        string port = FreePort.Next().ToString(CultureInfo.InvariantCulture);
        using (var strace = RunningProcess.Start("strace", ["-f", "-qq", "-e", "trace=openat,mkdir,mkdirat,chmod,fchmodat", "-o", trace, ChildProcess.DotnetHost, Switchboard, "apiserver", "--data-dir", dataDir, "--api-port", port, "--etcd-listen", ""]))
        {
            await strace.WaitForLineAsync(l => l.Contains("API server serving on ", StringComparison.Ordinal), "that it serves", TimeSpan.FromSeconds(60));

            // strace's one child is the server: killed by its pid, strace then ends by itself.
            int server = int.Parse(File.ReadAllText($"/proc/{strace.Id}/task/{strace.Id}/children").Trim(), CultureInfo.InvariantCulture);
            using var process = Process.GetProcessById(server);
            process.Kill();
            await process.WaitForExitAsync();
        }

        string[] calls = [.. File.ReadAllLines(trace).Where(l => l.Contains('"' + dataDir, StringComparison.Ordinal))];
        Assert.Contains(calls, c => MkdirCall().Match(c) is { Success: true } m && m.Groups["path"].Value == dataDir && m.Groups["mode"].Value == "0700");
        Assert.DoesNotContain(calls, c => c.Contains("chmod(", StringComparison.Ordinal));

        string[] files = [.. Directory.EnumerateFiles(dataDir).Select(f => Path.GetFileName(f)!)];
        Assert.Superset(new HashSet<string>(["admin.token", "ca.key", "ca.crt", "apiserver.key", "apiserver.crt", "kubeconfig", "state.db", "state.db-wal", "state.db-shm"]), new HashSet<string>(files));
        foreach (string file in files)
        {
            string path = Path.Combine(dataDir, file);
            string created = calls
                .Select(c => CreatingOpen().Match(c))
                .Where(m => m.Success && (m.Groups["path"].Value == path || m.Groups["path"].Value == path + ".tmp"))
                .Select(m => m.Groups["mode"].Value)
                .FirstOrDefault() ?? throw new InvalidOperationException($"no creating open of {file} in the trace:\n{string.Join('\n', calls)}");
            Assert.True(created == "0600", $"{file} was created with mode {created}");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, new FileInfo(path).UnixFileMode);
        }
    }

    [Theory]
    [InlineData("0777", "mode 0777, writable by others")]
    [InlineData("0770", "mode 0770, writable by its group")]
    public async Task Apiserver_refuses_a_data_dir_others_may_write_and_says_why(string mode, string reason)
    {
        (await ChildProcess.RunAsync("chmod", [mode, _dir.Path])).EnsureSuccess("chmod");

        var result = await ChildProcess.RunAsync(ChildProcess.DotnetHost, [Switchboard, "apiserver", "--data-dir", _dir.Path, "--api-port", FreePort.Next().ToString(CultureInfo.InvariantCulture), "--etcd-listen", ""]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"data dir {_dir.Path} has {reason}", result.Stdout + result.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.Path));
    }

    /// <summary><c>1234 mkdir("/tmp/x/data", 0700) = 0</c>, or mkdirat with AT_FDCWD.</summary>
    [GeneratedRegex("""mkdir(?:at)?\((?:AT_FDCWD, )?"(?<path>[^"]+)", (?<mode>0[0-7]+)\)""")]
    private static partial Regex MkdirCall();

    /// <summary><c>1234 openat(AT_FDCWD, "/tmp/x/ca.key.tmp", O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600) = 42</c>.</summary>
    [GeneratedRegex("""openat\(AT_FDCWD, "(?<path>[^"]+)", [A-Z_|]*O_CREAT[A-Z_|]*, (?<mode>0[0-7]+)\)""")]
    private static partial Regex CreatingOpen();
}
