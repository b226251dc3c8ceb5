using System.CommandLine;
using Switchboard.Commands;

namespace Switchboard;

internal static class Program
{
    private static Task<int> Main(string[] args)
    {
        var root = new RootCommand("Switchboard: Kubernetes services, cluster DNS and load balancing on one Linux machine.")
        {
            UpCommand.Create(),
            DownCommand.Create(),
            ApiServerCommand.Create(),
            ControllersCommand.Create(),
            DnsCommand.Create(),
            NodeCommand.Create(),
            ExecCommand.Create(),
            RuntimeCommands.Runtime(),
            RuntimeCommands.Image(),
        };
        // Commands handle SIGINT/SIGTERM themselves (StopSignal) so shutdown is never cut short by a timeout.
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }
}
