using System.CommandLine;
using Switchboard.Kube.Hosting;
using Switchboard.Node;

namespace Switchboard.Commands;

/// <summary><c>switchboard node</c>: the node agent alone (kubelet and the pod network), against any Kubernetes API server.</summary>
internal static class NodeCommand
{
    public static Command Create()
    {
        var kubeconfig = CommonOptions.Kubeconfig();
        var dataDir = CommonOptions.DataDir();
        var name = NameOption("--name");
        var clusterName = new Option<string?>("--cluster-name")
        {
            Description = "Prefix of the network namespaces this cluster's nodes make (default: derived from --data-dir)",
        };
        clusterName.Validators.Add(result =>
        {
            if (result.GetValue(clusterName) is { } value && !ClusterNames.IsValid(value))
            {
                result.AddError("--cluster-name must be 1-12 lowercase letters, digits or '-'");
            }
        });
        var command = new Command("node", "Run the node agent alone: register the node, run the pods bound to it in network namespaces")
        {
            kubeconfig, name, dataDir, clusterName,
        };
        command.SetAction(async (result, _) =>
        {
            string data = result.GetRequiredValue(dataDir).FullName;
            string node = result.GetRequiredValue(name);
            string path = result.GetRequiredValue(kubeconfig).FullName;
            using var loggerFactory = Logging.CreateFactory();
            return await ComponentHost.RunAsync(loggerFactory, services => services.AddKubeClient(path).AddNode(Options(node, data, result.GetValue(clusterName))));
        });
        return command;
    }

    /// <summary>The node's name: <c>--name</c> of <c>switchboard node</c>, <c>--node-name</c> of <c>up</c>.</summary>
    public static Option<string> NameOption(string name = "--node-name") => new(name)
    {
        Description = "The Node's name (default: the host's short name)",
        DefaultValueFactory = _ => Environment.MachineName.Split('.')[0].ToLowerInvariant(),
    };

    /// <summary>The node's options for a data dir: state under DIR/nodes/NAME, the cluster name from the dir unless given.</summary>
    public static NodeOptions Options(string nodeName, string dataDirectory, string? clusterName) => new()
    {
        NodeName = nodeName,
        ClusterName = clusterName ?? ClusterNames.FromDataDirectory(dataDirectory),
        StateDirectory = Path.Combine(dataDirectory, "nodes", nodeName),
        SelfCommand = SelfCommand(),
    };

    /// <summary>How to run this executable again (apphost, or dotnet with the entry assembly).</summary>
    public static IReadOnlyList<string> SelfCommand()
    {
        string process = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? [process, typeof(NodeCommand).Assembly.Location]
            : [process];
    }
}
