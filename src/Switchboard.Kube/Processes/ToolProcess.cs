using System.Diagnostics;

namespace Switchboard.Kube.Processes;

/// <summary>
/// Runs a short-lived system tool (ip, iptables-restore, conntrack, …) to completion: feeds it stdin, collects its
/// output, and kills it when cancelled. The node and the proxy both run their tools through it.
/// </summary>
public static class ToolProcess
{
    public static async Task<ToolResult> RunAsync(string program, IReadOnlyList<string> args, ReadOnlyMemory<byte> stdin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
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

        return new ToolResult($"{program} {string.Join(' ', args)}", process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>How a tool ended: the command line, exit code and output.</summary>
public sealed record ToolResult(string Command, int ExitCode, string Stdout, string Stderr)
{
    public void ThrowIfFailed()
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException($"{Command} exited {ExitCode}: {Stderr.Trim()}");
        }
    }
}
