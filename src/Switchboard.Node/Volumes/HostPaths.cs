using Switchboard.Node.Runtime;

namespace Switchboard.Node.Volumes;

/// <summary>hostPath volumes' type checks, with kubelet's messages (pkg/volume/hostpath); the path as the host resolves it.</summary>
internal static class HostPaths
{
    /// <summary>Checks (and for the OrCreate types creates) <paramref name="path"/>; returns it with the host's symlinks resolved.</summary>
    public static async Task<string> CheckAsync(string path, string type, CancellationToken cancellationToken)
    {
        switch (type)
        {
            case "DirectoryOrCreate" when !Path.Exists(path):
                FileCalls.CreateDirectory(path, (UnixFileMode)0b111_101_101);
                break;
            case "FileOrCreate" when !Path.Exists(path):
                using (File.Create(path))
                {
                }

                FileCalls.Chmod(path, (UnixFileMode)0b110_100_100);
                break;
            default:
                break;
        }

        (string? Test, string Failure) check = type switch
        {
            "" => (null, ""),
            "Directory" or "DirectoryOrCreate" => ("-d", "is not a directory"),
            "File" or "FileOrCreate" => ("-f", "is not a file"),
            "Socket" => ("-S", "is not a socket file"),
            "CharDevice" => ("-c", "is not a character device"),
            "BlockDevice" => ("-b", "is not a block device"),
            _ => throw new InvalidDataException($"hostPath type check failed: {path} has the unknown type {type}"),
        };
        // test(1) knows sockets and devices, which .NET's file APIs do not tell apart.
        if (check.Test is { } test && (await CommandRunner.RunAsync("test", [test, path], cancellationToken: cancellationToken)).ExitCode != 0)
        {
            throw new InvalidDataException($"hostPath type check failed: {path} {check.Failure}");
        }

        return Path.Exists(path) ? Resolve(path) : path;
    }

    /// <summary>The path with every symlink along it resolved on the host, so the container binds what the host means (not the pod's view of a link).</summary>
    private static string Resolve(string path)
    {
        string resolved = "/";
        foreach (string part in Path.GetFullPath(path).Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            string next = Path.Combine(resolved, part);
            var link = new FileInfo(next).LinkTarget;
            resolved = link is null ? next : Resolve(Path.GetFullPath(link, resolved));
        }

        return resolved;
    }
}
