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

    private readonly Option<int> _maxRequestsInflight = new("--max-requests-inflight")
    {
        Description = "Read requests served at once; more get 429 (as kube-apiserver's; 0: no limit)",
        DefaultValueFactory = _ => 400,
    };

    private readonly Option<int> _maxMutatingRequestsInflight = new("--max-mutating-requests-inflight")
    {
        Description = "Write requests served at once; more get 429 (as kube-apiserver's; 0: no limit)",
        DefaultValueFactory = _ => 200,
    };

    private readonly Option<int> _maxLongRunningRequests = new("--max-long-running-requests")
    {
        Description = "Watches, logs, exec, attach, port-forwards and proxied requests open at once; more get 429 (0: no limit)",
        DefaultValueFactory = _ => 1000,
    };

    private readonly Option<string?> _tokenAuthFile = new("--token-auth-file")
    {
        Description = "Static bearer tokens, a CSV line each: token,user,uid,\"group1,group2\" (as kube-apiserver's)",
    };

    private readonly Option<long> _defaultTolerationSeconds = new("--default-unreachable-toleration-seconds")
    {
        Description = "tolerationSeconds of the not-ready and unreachable NoExecute tolerations added to every pod that has none (kube-apiserver's 300)",
        DefaultValueFactory = _ => 300,
    };

    private readonly Option<TimeSpan> _compactionInterval = CommonOptions.Duration(
        "--etcd-compaction-interval", "How often the store's history is compacted, up to the revision of one interval before (kube-apiserver's 5m)", TimeSpan.FromMinutes(5));

    public void AddTo(Command command)
    {
        command.Options.Add(_address);
        command.Options.Add(_port);
        command.Options.Add(_serviceRange);
        command.Options.Add(_maxRequestsInflight);
        command.Options.Add(_maxMutatingRequestsInflight);
        command.Options.Add(_maxLongRunningRequests);
        command.Options.Add(_tokenAuthFile);
        command.Options.Add(_defaultTolerationSeconds);
        command.Options.Add(_compactionInterval);
        command.Validators.Add(result =>
        {
            if (result.GetValue(_port) is < 0 or > 65535)
            {
                result.AddError("--api-port must be between 0 and 65535");
            }

            if (result.GetValue(_tokenAuthFile) is { } tokenFile && !File.Exists(tokenFile))
            {
                result.AddError($"--token-auth-file {tokenFile}: no such file");
            }

            if (result.GetValue(_defaultTolerationSeconds) < 0)
            {
                result.AddError("--default-unreachable-toleration-seconds must not be negative");
            }

            foreach (var limit in (Option<int>[])[_maxRequestsInflight, _maxMutatingRequestsInflight, _maxLongRunningRequests])
            {
                if (result.GetValue(limit) < 0)
                {
                    result.AddError($"{limit.Name} must not be negative");
                }
            }
        });
    }

    public ApiServerOptions Read(ParseResult result, DataDirectory dataDir) => new()
    {
        DataDirectory = dataDir.Path,
        Address = IPAddress.Parse(result.GetRequiredValue(_address)),
        Port = result.GetValue(_port),
        ServiceClusterIpRange = result.GetRequiredValue(_serviceRange),
        MaxRequestsInflight = result.GetValue(_maxRequestsInflight),
        MaxMutatingRequestsInflight = result.GetValue(_maxMutatingRequestsInflight),
        MaxLongRunningRequests = result.GetValue(_maxLongRunningRequests),
        TokenAuthFile = result.GetValue(_tokenAuthFile) is { } tokenFile ? Path.GetFullPath(tokenFile) : null,
        DefaultTolerationSeconds = result.GetValue(_defaultTolerationSeconds),
        CompactionInterval = result.GetValue(_compactionInterval),
    };
}
