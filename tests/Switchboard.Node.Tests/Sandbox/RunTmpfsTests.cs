using Switchboard.Node.Sandbox;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Sandbox;

public sealed class RunTmpfsTests
{
    [Fact]
    public async Task The_run_directory_is_a_tmpfs_its_owners_alone_and_removing_it_leaves_no_mount()
    {
        string directory = Path.Combine("/run/switchboard", "test-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            RunTmpfs.Ensure(directory);
            RunTmpfs.Ensure(directory);

            Assert.Equal("tmpfs", (await ChildProcess.RunAsync("stat", ["-f", "-c", "%T", directory])).EnsureSuccess("stat -f").Stdout.Trim());
            Assert.Equal("700", (await ChildProcess.RunAsync("stat", ["-c", "%a", directory])).EnsureSuccess("stat").Stdout.Trim());
            Assert.True(MountsAt(directory) <= 1, "one tmpfs at most, however often it is ensured");
        }
        finally
        {
            RunTmpfs.Remove(directory);
        }

        Assert.Equal(0, MountsAt(directory));
        Assert.False(Directory.Exists(directory));
    }

    private static int MountsAt(string directory) => File.ReadLines("/proc/self/mountinfo").Count(line => line.Split(' ')[4] == directory);
}
