using System.CommandLine;
using Switchboard.Node.Images;
using Switchboard.Node.Runtime;

namespace Switchboard.Commands;

/// <summary>Hidden subcommands the node runs as processes of their own: the container monitor host and the built-in images.</summary>
internal static class RuntimeCommands
{
    public static Command Runtime()
    {
        var directory = new Argument<string>("runtime-directory");
        var monitor = new Command("monitor", "Run the node's containers handed over on the directory's socket, recording their output and exits") { directory };
        monitor.SetAction((result, _) => MonitorHost.RunAsync(result.GetRequiredValue(directory)));
        return new Command("runtime", "The node's container runtime (internal)") { Hidden = true, Subcommands = { monitor } };
    }

    public static Command Image()
    {
        var args = new Argument<string[]>("args") { Arity = ArgumentArity.ZeroOrMore };
        var echo = new Command("echo", "The switchboard/echo image: agnhost netexec's HTTP and UDP server") { args };
        echo.TreatUnmatchedTokensAsErrors = false;
        echo.SetAction((result, cancellationToken) => EchoServer.RunAsync([.. result.GetValue(args) ?? [], .. result.UnmatchedTokens], cancellationToken));
        return new Command("image", "The node's built-in images (internal)") { Hidden = true, Subcommands = { echo } };
    }
}
