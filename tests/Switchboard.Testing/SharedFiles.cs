namespace Switchboard.Testing;

/// <summary>Files of the project's shared/ folder, which lies beside the clone (../shared) in CI.</summary>
public static class SharedFiles
{
    private const string Fallback = "/work/shared";

    public static string Example(string name) => Find(Path.Combine("examples", name));

    public static string Find(string relativePath)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", relativePath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        string fallback = Path.Combine(Fallback, relativePath);
        return File.Exists(fallback) ? fallback : throw new FileNotFoundException($"shared/{relativePath} is neither beside the checkout nor in {Fallback}");
    }
}
