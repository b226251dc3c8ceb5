using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Switchboard.Testing;

namespace Switchboard.Controllers.Tests.Fixtures;

/// <summary>A namespace of its own for one workload test, with manifests applied by kubectl and its pods looked up.</summary>
public sealed class WorkloadNamespace
{
    private readonly InProcessApiServer _server;

    private WorkloadNamespace(InProcessApiServer server, string name)
    {
        _server = server;
        Name = name;
    }

    public string Name { get; }

    private IKubernetes Client => _server.Client;

    public static Task<WorkloadNamespace> CreateAsync(ClusterFixture cluster, string prefix) => CreateAsync(cluster.Server, prefix);

    public static async Task<WorkloadNamespace> CreateAsync(InProcessApiServer server, string prefix)
    {
        var ns = new WorkloadNamespace(server, prefix + "-" + Guid.NewGuid().ToString("N")[..6]);
        await server.KubectlOkAsync("create", "namespace", ns.Name);
        return ns;
    }

    /// <summary>kubectl apply of <paramref name="yaml"/> in this namespace.</summary>
    public async Task<string> ApplyAsync(string yaml)
    {
        using var dir = new TempDirectory();
        string file = dir.File("manifest.yaml");
        await File.WriteAllTextAsync(file, yaml);
        return await KubectlAsync("apply", "-f", file);
    }

    public Task<string> KubectlAsync(params string[] args) => _server.KubectlOkAsync([.. args, "-n", Name]);

    public Task<(int ExitCode, string Stdout, string Stderr)> KubectlTryAsync(params string[] args) => _server.KubectlAsync([.. args, "-n", Name]);

    public async Task<List<V1Pod>> PodsAsync(string? labelSelector = null) =>
        [.. (await Client.CoreV1.ListNamespacedPodAsync(Name, labelSelector: labelSelector)).Items.OrderBy(p => p.Metadata.Name, StringComparer.Ordinal)];

    /// <summary>Sets a pod's phase as its kubelet would when its containers exit (0: Succeeded, else Failed), at <paramref name="at"/> (now).</summary>
    public Task FinishPodAsync(string pod, bool succeeded, DateTimeOffset? at = null) =>
        Client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(FinishedStatus(succeeded, at ?? DateTimeOffset.UtcNow).ToJsonString(),
            V1Patch.PatchType.MergePatch), pod, Name);

    private static JsonObject FinishedStatus(bool succeeded, DateTimeOffset at) => new()
    {
        ["status"] = new JsonObject
        {
            ["phase"] = succeeded ? "Succeeded" : "Failed",
            ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "False" }),
            ["containerStatuses"] = new JsonArray(new JsonObject
            {
                ["name"] = "main",
                ["image"] = "busybox",
                ["imageID"] = "",
                ["ready"] = false,
                ["restartCount"] = 0,
                ["state"] = new JsonObject
                {
                    ["terminated"] = new JsonObject
                    {
                        ["exitCode"] = succeeded ? 0 : 1,
                        ["reason"] = succeeded ? "Completed" : "Error",
                        ["finishedAt"] = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
                    },
                },
            }),
        },
    };
}
