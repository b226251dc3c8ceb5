using System.CommandLine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Switchboard.Node;

namespace Switchboard.Commands;

/// <summary><c>switchboard node</c>: the node agent alone (kubelet and the pod network), against any Kubernetes API server.</summary>
internal static class NodeCommand
{
    public static Command Create()
    {
        var kubeconfig = CommonOptions.Kubeconfig();
        var dataDir = CommonOptions.DataDir();
        var name = new Option<string>("--name")
        {
            Description = "The Node's name (default: the host's short name)",
            DefaultValueFactory = _ => Environment.MachineName.Split('.')[0].ToLowerInvariant(),
        };
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
        command.SetAction(async (result, cancellationToken) =>
        {
            string data = result.GetRequiredValue(dataDir).FullName;
            string node = result.GetRequiredValue(name);
            var options = Options(node, data, result.GetValue(clusterName), result.GetRequiredValue(kubeconfig).FullName);
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });
            builder.Services.AddNode(options);
            using var host = builder.Build();
            await host.RunAsync(cancellationToken);
            return 0;
        });
        return command;
    }

    /// <summary>The node's options for a data dir: state under DIR/nodes/NAME, the cluster name from the dir unless given.</summary>
    public static NodeOptions Options(string nodeName, string dataDirectory, string? clusterName, string kubeconfigPath) => new()
    {
        NodeName = nodeName,
        ClusterName = clusterName ?? ClusterNames.FromDataDirectory(dataDirectory),
        StateDirectory = Path.Combine(dataDirectory, "nodes", nodeName),
        KubeconfigPath = kubeconfigPath,
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
