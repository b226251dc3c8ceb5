using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Switchboard.Proxy;

/// <summary>Runs a program inside one named network namespace (<c>ip netns exec NS …</c>), feeding it stdin and collecting its output.</summary>
internal static partial class NetnsProcess
{
    /// <summary><paramref name="networkNamespace"/> when it is a namespace name; never a path that could lead elsewhere.</summary>
    public static string ValidName(string? networkNamespace) =>
        NamespaceName().IsMatch(networkNamespace ?? "")
            ? networkNamespace!
            : throw new ArgumentException($"'{networkNamespace}' is not a network namespace name", nameof(networkNamespace));

    public static async Task<Result> RunAsync(string networkNamespace, string program, IReadOnlyList<string> args, ReadOnlyMemory<byte> stdin, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("ip")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in (string[])["netns", "exec", networkNamespace, program, .. args])
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start ip netns exec {networkNamespace} {program}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            try
            {
                await using var input = process.StandardInput.BaseStream;
                await input.WriteAsync(stdin, cancellationToken);
            }
            catch (IOException)
            {
                // The program exited without reading everything (a missing namespace, a parse error): its exit code
                // and stderr say why.
            }

            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new Result($"ip netns exec {networkNamespace} {program} {string.Join(' ', args)}", process.ExitCode, await stdout, await stderr);
    }

    public sealed record Result(string Command, int ExitCode, string Stdout, string Stderr)
    {
        public void ThrowIfFailed()
        {
            if (ExitCode != 0)
            {
                throw new InvalidOperationException($"{Command} exited {ExitCode}: {Stderr.Trim()}");
            }
        }
    }

    // What `ip netns add` accepts as a name under /run/netns: no path separators, not empty.
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    private static partial Regex NamespaceName();
}
