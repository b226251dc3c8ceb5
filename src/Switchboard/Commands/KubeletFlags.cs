using System.CommandLine;
using k8s.Models;
using Switchboard.Node;
using Switchboard.Node.Server;

namespace Switchboard.Commands;

/// <summary>The node agent's kubelet flags that <c>switchboard node</c> and <c>up</c> share: its HTTPS port, container log rotation and status frequency.</summary>
internal sealed class KubeletFlags
{
    private readonly Option<int> _port;

    private readonly Option<string> _logMaxSize = new("--container-log-max-size")
    {
        Description = "Size at which a container's log file is rotated, a quantity such as 10Mi (kubelet's containerLogMaxSize)",
        DefaultValueFactory = _ => "10Mi",
    };

    private readonly Option<int> _logMaxFiles = new("--container-log-max-files")
    {
        Description = "Log files kept per container, the current one included (kubelet's containerLogMaxFiles)",
        DefaultValueFactory = _ => NodeOptions.DefaultContainerLogMaxFiles,
    };

    private readonly Option<TimeSpan> _statusUpdateFrequency = CommonOptions.Duration(
        "--node-status-update-frequency", "How often the node computes its status and renews its Lease (kubelet's 10s; keep it well under the cluster's --node-monitor-grace-period)", TimeSpan.FromSeconds(10));

    /// <param name="portName"><c>--port</c> for the node alone (kubelet's name), <c>--kubelet-port</c> in <c>up</c>.</param>
    public KubeletFlags(string portName)
    {
        _port = new Option<int>(portName)
        {
            Description = "Port of the node's HTTPS server (resource metrics at /metrics/resource); 0 picks a free one",
            DefaultValueFactory = _ => KubeletServerOptions.DefaultPort,
        };
        _port.Validators.Add(result =>
        {
            if (result.GetValue(_port) is < 0 or > 65535)
            {
                result.AddError($"{portName} must be between 0 and 65535");
            }
        });
        _logMaxSize.Validators.Add(result =>
        {
            if (!TryParseSize(result.GetValue(_logMaxSize), out _))
            {
                result.AddError("--container-log-max-size must be a positive quantity such as 10Mi");
            }
        });
        _logMaxFiles.Validators.Add(result =>
        {
            if (result.GetValue(_logMaxFiles) < 2)
            {
                result.AddError("--container-log-max-files must be at least 2");
            }
        });
    }

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(_port);
        command.Options.Add(_logMaxSize);
        command.Options.Add(_logMaxFiles);
        command.Options.Add(_statusUpdateFrequency);
    }

    /// <summary>The <c>--node-status-update-frequency</c> given, passed on to the agents <c>up</c> starts.</summary>
    public TimeSpan StatusUpdateFrequency(ParseResult result) => result.GetValue(_statusUpdateFrequency);

    public int Port(ParseResult result) => result.GetValue(_port);

    /// <summary><paramref name="options"/> with the log rotation asked for.</summary>
    public NodeOptions Apply(ParseResult result, NodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        TryParseSize(result.GetValue(_logMaxSize), out long size);
        return options with { ContainerLogMaxSize = size, ContainerLogMaxFiles = result.GetValue(_logMaxFiles), StatusUpdateFrequency = result.GetValue(_statusUpdateFrequency) };
    }

    private static bool TryParseSize(string? text, out long bytes)
    {
        bytes = 0;
        try
        {
            bytes = new ResourceQuantity(text).ToInt64();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            return false;
        }

        return bytes > 0;
    }
}
