using Switchboard.Testing;

namespace Switchboard.EndToEnd.Tests;

/// <summary><c>switchboard up</c> refuses a data dir that others may write before it starts anything, and says why.</summary>
public sealed class UpDataDirectoryTests : IDisposable
{
    private readonly TempDirectory _dir = new("sb-e2e-unsafe-");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Up_refuses_a_data_dir_writable_by_others_and_says_why()
    {
        (await ChildProcess.RunAsync("chmod", ["0777", _dir.Path])).EnsureSuccess("chmod");

        var up = await SwitchboardUp.RunAsync("up", "--data-dir", _dir.Path, "--api-port", FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(1, up.ExitCode);
        Assert.Contains($"data dir {_dir.Path} has mode 0777, writable by others", up.Stdout + up.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.Path));
    }
}
