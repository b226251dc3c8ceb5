using System.Diagnostics;

namespace Switchboard.Node.Runtime;

/// <summary>Runs short-lived tools (ip, …) to completion and fails with their stderr when they fail.</summary>
internal static class CommandRunner
{
    public static async Task<CommandResult> RunAsync(string program, IEnumerable<string> args, string? stdin = null, CancellationToken cancellationToken = default)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin.AsMemory(), cancellationToken);
        }

        process.StandardInput.Close();
        await process.WaitForExitAsync(cancellationToken);
        return new CommandResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs the command and throws <see cref="CommandFailedException"/> unless it exits 0; returns its stdout.</summary>
    public static async Task<string> CheckAsync(string program, IEnumerable<string> args, string? stdin = null, CancellationToken cancellationToken = default)
    {
        string[] argv = [.. args];
        var result = await RunAsync(program, argv, stdin, cancellationToken);
        return result.ExitCode == 0
            ? result.Stdout
            : throw new CommandFailedException($"{program} {string.Join(' ', argv)}: exit {result.ExitCode}: {result.Stderr.Trim()}");
    }
}

internal sealed record CommandResult(int ExitCode, string Stdout, string Stderr);

internal sealed class CommandFailedException(string message) : Exception(message);
