using System.CommandLine;
using Switchboard.Node.Runtime;

namespace Switchboard.Commands;

/// <summary>The hidden subcommand the node runs as a process of its own: the container monitor host.</summary>
internal static class RuntimeCommands
{
    public static Command Runtime()
    {
        var directory = new Argument<string>("runtime-directory");
        var monitor = new Command("monitor", "Run the node's containers handed over on the directory's socket, recording their output and exits") { directory };
        monitor.SetAction((result, _) => MonitorHost.RunAsync(result.GetRequiredValue(directory)));
        return new Command("runtime", "The node's container runtime (internal)") { Hidden = true, Subcommands = { monitor } };
    }
}
