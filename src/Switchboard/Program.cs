using System.CommandLine;
using Switchboard.Commands;
using Switchboard.Node.Runtime;

namespace Switchboard;

internal static class Program
{
    private static Task<int> Main(string[] args)
    {
        // The node starts its container monitor host on demand, on a pod's path: spare it building every command.
        if (args is ["runtime", "monitor", var runtimeDirectory])
        {
            return MonitorHost.RunAsync(runtimeDirectory);
        }

        var root = new RootCommand("Switchboard: Kubernetes services, cluster DNS and load balancing on one Linux machine.")
        {
            UpCommand.Create(),
            DownCommand.Create(),
            ApiServerCommand.Create(),
            ControllersCommand.Create(),
            DnsCommand.Create(),
            NodeCommand.Create(),
            NodeCommand.CreateAgent(),
            ProxyCommand.Create(),
            ExecCommand.Create(),
            TraceCommand.Create(),
            UiCommand.Create(),
            RuntimeCommands.Runtime(),
        };
        // SIGINT/SIGTERM stop a command's host (its console lifetime), whose shutdown no timeout cuts short.
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }
}
