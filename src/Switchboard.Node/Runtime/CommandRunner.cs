using System.Text;
using Switchboard.Kube.Processes;

namespace Switchboard.Node.Runtime;

/// <summary>Runs short-lived tools (ip, …) to completion and fails with their stderr when they fail.</summary>
internal static class CommandRunner
{
    public static Task<ToolResult> RunAsync(string program, IEnumerable<string> args, string? stdin = null, CancellationToken cancellationToken = default) =>
        ToolProcess.RunAsync(program, [.. args], Encoding.UTF8.GetBytes(stdin ?? ""), cancellationToken);

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

internal sealed class CommandFailedException(string message) : Exception(message);
