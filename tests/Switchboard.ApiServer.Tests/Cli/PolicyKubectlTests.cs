using Switchboard.ApiServer.Tests.Support;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Cli;

/// <summary>
/// The real kubectl 1.32 with NetworkPolicies and PodDisruptionBudgets: created, defaulted and listed with
/// kube-apiserver's columns and short names, and invalid ones refused with 422 naming the field, as kube-apiserver
/// words it.
/// </summary>
public sealed class PolicyKubectlTests(SqliteApiServer server) : IClassFixture<SqliteApiServer>, IAsyncLifetime
{
    private const string Ns = "t-policy";

    private Kubectl Kubectl => server.Kubectl;

    public async Task InitializeAsync() => await Kubectl.RunAsync("create", "namespace", Ns);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_network_policy_is_stored_defaulted_and_listed_by_its_short_name()
    {
        using var dir = new TempDirectory("sb-netpol-");
        string file = dir.File("netpol.yaml");
        await File.WriteAllTextAsync(file, """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: backend-ingress
            spec:
              podSelector:
                matchLabels:
                  role: backend
              ingress:
              - from:
                - ipBlock:
                    cidr: 10.0.0.0/8
                    except: [10.1.0.0/16]
                - namespaceSelector: {}
                  podSelector:
                    matchLabels:
                      role: frontend
                ports:
                - port: 80
                - port: http-alt
              egress:
              - to:
                - podSelector: {}
                ports:
                - port: 5000
                  endPort: 5010
                  protocol: UDP
            """);

        Assert.Equal("networkpolicy.networking.k8s.io/backend-ingress created\n", await Kubectl.OutputAsync("create", "-f", file, "-n", Ns));

        string table = await Kubectl.OutputAsync("get", "netpol", "-n", Ns);
        Assert.Matches(@"^NAME\s+POD-SELECTOR\s+AGE\nbackend-ingress\s+role=backend\s+\d+s\n$", table);
        Assert.Equal("Ingress Egress", await Kubectl.OutputAsync("get", "networkpolicy", "backend-ingress", "-n", Ns, "-o", "jsonpath={.spec.policyTypes[*]}"));
        Assert.Equal("TCP TCP", await Kubectl.OutputAsync("get", "networkpolicy", "backend-ingress", "-n", Ns, "-o", "jsonpath={.spec.ingress[0].ports[*].protocol}"));
    }

    [Theory]
    [InlineData("{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/33\"}}]}]}", "spec.ingress[0].from[0].ipBlock.cidr: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)")]
    [InlineData("{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/16\",\"except\":[\"10.1.0.0/24\"]}}]}]}", "spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: \"10.1.0.0/24\": must be a strict subset of `cidr`")]
    [InlineData("{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\"},\"podSelector\":{}}]}]}", "spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer")]
    [InlineData("{\"podSelector\":{},\"ingress\":[{\"from\":[{}]}]}", "spec.ingress[0].from[0]: Required value: must specify a peer")]
    [InlineData("{\"podSelector\":{},\"egress\":[{\"ports\":[{\"port\":70000}]}]}", "spec.egress[0].ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive")]
    [InlineData("{\"podSelector\":{},\"egress\":[{\"ports\":[{\"port\":\"web\",\"endPort\":90}]}]}", "spec.egress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is non-numeric")]
    [InlineData("{\"podSelector\":{},\"egress\":[{\"ports\":[{\"port\":80,\"protocol\":\"ICMP\"}]}]}", "spec.egress[0].ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"TCP\", \"UDP\", \"SCTP\"")]
    [InlineData("{\"podSelector\":{},\"policyTypes\":[\"Sideways\"]}", "spec.policyTypes[0]: Unsupported value: \"Sideways\": supported values: \"Ingress\", \"Egress\"")]
    [InlineData("{\"podSelector\":{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\"}]}}", "spec.podSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'")]
    public async Task An_invalid_network_policy_is_refused_naming_the_field(string spec, string error)
    {
        var result = await CreateAsync("networking.k8s.io/v1", "NetworkPolicy", "bad", spec);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"The NetworkPolicy \"bad\" is invalid: {error}", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"minAvailable\":1,\"maxUnavailable\":1,\"selector\":{}}", "minAvailable and maxUnavailable cannot be both set")]
    [InlineData("{\"minAvailable\":\"120%\",\"selector\":{}}", "spec.minAvailable: Invalid value: \"120%\": must not be greater than 100%")]
    [InlineData("{\"maxUnavailable\":-1,\"selector\":{}}", "spec.maxUnavailable: Invalid value: -1: must be greater than or equal to 0")]
    [InlineData("{\"minAvailable\":1,\"unhealthyPodEvictionPolicy\":\"Never\"}", "spec.unhealthyPodEvictionPolicy: Unsupported value: \"Never\": supported values: \"AlwaysAllow\", \"IfHealthyBudget\"")]
    public async Task An_invalid_disruption_budget_is_refused_naming_the_field(string spec, string error)
    {
        var result = await CreateAsync("policy/v1", "PodDisruptionBudget", "bad", spec);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("The PodDisruptionBudget \"bad\" is invalid: ", result.Stderr, StringComparison.Ordinal);
        Assert.Contains(error, result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_disruption_budget_lists_with_kubectls_columns_by_its_short_name()
    {
        await Kubectl.OutputAsync("create", "pdb", "web", "-n", Ns, "--selector=app=web", "--max-unavailable=25%");

        string table = await Kubectl.OutputAsync("get", "pdb", "web", "-n", Ns);

        Assert.Matches(@"^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\nweb\s+N/A\s+25%\s+0\s+\d+s\n$", table);
    }

    private async Task<ProcessResult> CreateAsync(string apiVersion, string kind, string name, string spec)
    {
        using var dir = new TempDirectory("sb-policy-");
        string file = dir.File("object.json");
        await File.WriteAllTextAsync(file, $"{{\"apiVersion\":\"{apiVersion}\",\"kind\":\"{kind}\",\"metadata\":{{\"name\":\"{name}\",\"namespace\":\"{Ns}\"}},\"spec\":{spec}}}");
        return await Kubectl.RunAsync("create", "-f", file);
    }
}
