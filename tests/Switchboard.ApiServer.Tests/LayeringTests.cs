using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests;

/// <summary>
/// The API server's namespaces depend one way (Hosting → Http → Registry → Validation and Storage, Kinds and Allocation plugging
/// into Registry): scripts/layers.sh finds no cycle among them.
/// </summary>
public sealed class LayeringTests
{
    [Fact]
    public async Task The_api_server_namespaces_have_no_cycle()
    {
        string repository = RepositoryRoot();

        var result = await ChildProcess.RunAsync("bash", [Path.Combine(repository, "scripts", "layers.sh"), Path.Combine(repository, "src", "Switchboard.ApiServer")]);

        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        Assert.Matches("(?m)^Registry +-> Errors Selectors Tables Validation$", result.Stdout);
        Assert.EndsWith("no cycles\n", result.Stdout, StringComparison.Ordinal);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Switchboard.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no Switchboard.slnx above {AppContext.BaseDirectory}");
    }
}
