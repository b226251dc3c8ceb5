using System.Text;
using System.Text.Json.Nodes;
using Switchboard.Testing;

namespace Switchboard.EndToEnd.Tests;

/// <summary>
/// Pods as API clients on one <c>switchboard up</c> with its real node: the real kubectl in a pod, with no kubeconfig,
/// finds the projected service-account token, CA and namespace, reaches the API through the kubernetes Service and is
/// allowed what its account's binding grants; automountServiceAccountToken false mounts nothing; the root-CA publisher
/// keeps kube-root-ca.crt in every namespace.
/// </summary>
public sealed class InClusterTests(UpCluster cluster) : IClassFixture<UpCluster>
{
    private const string MountPath = "/var/run/secrets/kubernetes.io/serviceaccount";

    private Kubectl Kubectl => cluster.Up.Kubectl;

    [Fact]
    public async Task Kubectl_in_a_pod_without_a_kubeconfig_lists_the_pods_its_view_binding_allows_and_is_refused_a_create()
    {
        await Kubectl.OutputAsync("create", "namespace", "viewer");
        await Kubectl.OutputAsync("create", "rolebinding", "default-view", "--clusterrole=view", "--serviceaccount=viewer:default", "-n", "viewer");

        await Kubectl.OutputAsync("run", "lister", "-n", "viewer", "--image=bitnami/kubectl", "--restart=Never", "--", "get", "pods", "-o", "name");
        Assert.Equal("Succeeded", await FinishedPhaseAsync("viewer", "lister"));
        Assert.Contains("pod/lister", (await Kubectl.OutputAsync("logs", "lister", "-n", "viewer")).Split('\n'));

        await Kubectl.OutputAsync("run", "creator", "-n", "viewer", "--image=bitnami/kubectl", "--restart=Never", "--", "create", "configmap", "made-inside", "--from-literal=a=b");
        Assert.Equal("Failed", await FinishedPhaseAsync("viewer", "creator"));
        Assert.Equal(
            "error: failed to create configmap: configmaps is forbidden: User \"system:serviceaccount:viewer:default\" cannot create resource \"configmaps\" in API group \"\" in the namespace \"viewer\"",
            (await Kubectl.OutputAsync("logs", "creator", "-n", "viewer")).Trim());
        Assert.Equal(1, (await Kubectl.RunAsync("get", "configmap", "made-inside", "-n", "viewer")).ExitCode);
    }

    [Fact]
    public async Task The_mount_holds_a_token_bound_to_the_pod_the_cluster_ca_and_the_namespace_and_automount_false_holds_nothing()
    {
        await Kubectl.OutputAsync("create", "namespace", "mounts");
        await Kubectl.OutputAsync("run", "holder", "-n", "mounts", "--image=busybox", "--restart=Never", "--", "sleep", "3600");
        await Kubectl.OutputAsync("run", "bare", "-n", "mounts", "--image=busybox", "--restart=Never", "--overrides={\"spec\":{\"automountServiceAccountToken\":false}}", "--", "sleep", "3600");
        await Kubectl.OutputAsync("wait", "--for=condition=Ready", "pod/holder", "pod/bare", "-n", "mounts", "--timeout=120s");

        Assert.Equal("mounts", await Kubectl.OutputAsync("exec", "holder", "-n", "mounts", "--", "cat", MountPath + "/namespace"));
        Assert.Equal(
            (await File.ReadAllTextAsync(Path.Combine(cluster.Up.DataDirectory, "ca.crt"))).Trim(),
            (await Kubectl.OutputAsync("exec", "holder", "-n", "mounts", "--", "cat", MountPath + "/ca.crt")).Trim());

        // The token is the node's TokenRequest for this pod: its account, bound to the pod by name and uid, an hour and 7 s long.
        string uid = await Kubectl.OutputAsync("get", "pod", "holder", "-n", "mounts", "-o", "jsonpath={.metadata.uid}");
        string token = (await Kubectl.OutputAsync("exec", "holder", "-n", "mounts", "--", "cat", MountPath + "/token")).Trim();
        var claims = Payload(token);
        Assert.Equal("system:serviceaccount:mounts:default", claims["sub"]!.ToString());
        Assert.Equal("holder", claims["kubernetes.io"]!["pod"]!["name"]!.ToString());
        Assert.Equal(uid, claims["kubernetes.io"]!["pod"]!["uid"]!.ToString());
        Assert.Equal(3607, claims["exp"]!.GetValue<long>() - claims["iat"]!.GetValue<long>());

        // The mount is read-only, and the pod that opted out has none.
        Assert.NotEqual(0, (await Kubectl.RunAsync("exec", "holder", "-n", "mounts", "--", "touch", MountPath + "/extra")).ExitCode);
        Assert.Equal("", await Kubectl.OutputAsync("get", "pod", "bare", "-n", "mounts", "-o", "jsonpath={.spec.volumes}"));
        Assert.NotEqual(0, (await Kubectl.RunAsync("exec", "bare", "-n", "mounts", "--", "ls", MountPath)).ExitCode);
    }

    [Fact]
    public async Task The_root_ca_configmap_is_in_every_namespace_and_comes_back_when_deleted_or_edited()
    {
        string ca = (await File.ReadAllTextAsync(Path.Combine(cluster.Up.DataDirectory, "ca.crt"))).Trim();
        await Kubectl.OutputAsync("create", "namespace", "roots");
        async Task<string?> PublishedAsync()
        {
            var result = await Kubectl.RunAsync("get", "configmap", "kube-root-ca.crt", "-n", "roots", "-o", "jsonpath={.data.ca\\.crt}");
            return result.ExitCode == 0 ? result.Stdout.Trim() : null;
        }

        await Eventually.WaitAsync(async () => await PublishedAsync() == ca, "kube-root-ca.crt in a new namespace");
        await Kubectl.OutputAsync("delete", "configmap", "kube-root-ca.crt", "-n", "roots");
        await Eventually.WaitAsync(async () => await PublishedAsync() == ca, "kube-root-ca.crt made again after its deletion");
        await Kubectl.OutputAsync("patch", "configmap", "kube-root-ca.crt", "-n", "roots", "--type=merge", "-p", "{\"data\":{\"ca.crt\":\"not a CA\"}}");
        await Eventually.WaitAsync(async () => await PublishedAsync() == ca, "kube-root-ca.crt put back after an edit");
    }

    /// <summary>The phase a pod that runs once ends in.</summary>
    private async Task<string> FinishedPhaseAsync(string ns, string pod)
    {
        string phase = "";
        await Eventually.WaitAsync(async () =>
        {
            phase = await Kubectl.OutputAsync("get", "pod", pod, "-n", ns, "-o", "jsonpath={.status.phase}");
            return phase is "Succeeded" or "Failed";
        }, $"pod {ns}/{pod} finishing", TimeSpan.FromSeconds(120));
        return phase;
    }

    /// <summary>A JWT's claims (its middle part, base64url).</summary>
    private static JsonNode Payload(string jwt)
    {
        string part = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        return JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(part.PadRight(part.Length + ((4 - (part.Length % 4)) % 4), '='))))!;
    }
}
