namespace Switchboard.Testing;

/// <summary>
/// Files of this repository that tests use, such as the example manifests of <c>examples/</c> and the scripts of
/// <c>scripts/</c>, found from the test assembly's folder: a clone of the repository is all the tests need.
/// </summary>
public static class SharedFiles
{
    private const string RootMarker = "Switchboard.slnx";

    // The repository's root: the nearest folder above the running tests that holds Switchboard.slnx.
    private static readonly string RepositoryRoot = FindRoot();

    /// <summary>The path of <c>examples/NAME</c>.</summary>
    public static string Example(string name)
    {
        string path = Path.Combine(RepositoryRoot, "examples", name);
        return File.Exists(path) ? path : throw new FileNotFoundException($"examples/{name} is not in the repository at {RepositoryRoot}", path);
    }

    /// <summary>The path of <c>scripts/NAME</c>.</summary>
    public static string Script(string name)
    {
        string path = Path.Combine(RepositoryRoot, "scripts", name);
        return File.Exists(path) ? path : throw new FileNotFoundException($"scripts/{name} is not in the repository at {RepositoryRoot}", path);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, RootMarker)))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no folder above {AppContext.BaseDirectory} holds {RootMarker}: the tests run from a build inside the repository");
    }
}
