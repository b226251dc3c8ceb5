using System.CommandLine;
using System.Net;
using Switchboard.ApiServer;

namespace Switchboard.Commands;

/// <summary>The API server's flags, shared by <c>switchboard up</c> and <c>switchboard apiserver</c>.</summary>
internal sealed class ApiServerFlags
{
    private readonly Option<string> _address = new("--api-address")
    {
        Description = "Address the API server listens on (loopback unless asked)",
        DefaultValueFactory = _ => "127.0.0.1",
        CustomParser = result =>
        {
            string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (!IPAddress.TryParse(text, out _))
            {
                result.AddError($"--api-address '{text}' is not an IP address");
            }

            return text;
        },
    };

    private readonly Option<int> _port = new("--api-port")
    {
        Description = "HTTPS port of the API server",
        DefaultValueFactory = _ => 6443,
    };

    private readonly Option<string> _serviceRange = new("--service-cluster-ip-range")
    {
        Description = "CIDR that ClusterIPs are allocated from; its first address is the kubernetes service's",
        DefaultValueFactory = _ => "10.96.0.0/16",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_address);
        command.Options.Add(_port);
        command.Options.Add(_serviceRange);
        command.Validators.Add(result =>
        {
            if (result.GetValue(_port) is < 0 or > 65535)
            {
                result.AddError("--api-port must be between 0 and 65535");
            }
        });
    }

    public ApiServerOptions Read(ParseResult result, DataDirectory dataDir) => new()
    {
        DataDirectory = dataDir.Path,
        Address = IPAddress.Parse(result.GetRequiredValue(_address)),
        Port = result.GetValue(_port),
        ServiceClusterIpRange = result.GetRequiredValue(_serviceRange),
    };
}
