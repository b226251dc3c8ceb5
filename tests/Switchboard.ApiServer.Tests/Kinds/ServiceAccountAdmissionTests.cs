using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Switchboard.ApiServer.Authorization;
using Switchboard.Testing;

namespace Switchboard.ApiServer.Tests.Kinds;

/// <summary>
/// The ServiceAccount admission plugin as kube-apiserver runs it on a pod's create, judged by the real kubectl and
/// KubernetesClient: the default account, the kube-api-access projected volume mounted in init and regular
/// containers, automountServiceAccountToken (pod over account), a missing account refused with upstream's 403; and the
/// node's TokenRequests held to its own pods' accounts, as the Node authorizer and NodeRestriction hold them.
/// </summary>
public sealed class ServiceAccountAdmissionTests : IAsyncLifetime
{
    private const string Ns = "default";
    private readonly InProcessApiServer _server = new() { ServiceAccountAdmission = true };

    private IKubernetes Client => _server.Client;

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();

        // No controller runs here: the accounts are made as the service-account controller would.
        foreach (string name in new[] { "default", "quiet" })
        {
            await Client.CoreV1.CreateNamespacedServiceAccountAsync(
                new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = name }, AutomountServiceAccountToken = name == "quiet" ? false : null }, Ns);
        }
    }

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task A_pod_without_an_account_runs_as_default_with_the_token_volume_in_every_container_that_has_no_mount_there()
    {
        var pod = await CreateAsync("plain", spec =>
        {
            spec.InitContainers = [new V1Container { Name = "init", Image = "busybox" }];
            spec.Containers.Add(new V1Container
            {
                Name = "own",
                Image = "busybox",
                VolumeMounts = [new V1VolumeMount { Name = "mine", MountPath = "/var/run/secrets/kubernetes.io/serviceaccount" }],
            });
            spec.Volumes = [new V1Volume { Name = "mine", EmptyDir = new V1EmptyDirVolumeSource() }];
        });

        Assert.Equal("default", pod.Spec.ServiceAccountName);
        var volume = Assert.Single(pod.Spec.Volumes, v => v.Name != "mine");
        Assert.Matches("^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$", volume.Name);

        // The volume exactly as upstream's plugin writes it.
        var expected = JsonNode.Parse("""
            {"defaultMode":420,"sources":[
              {"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},
              {"configMap":{"items":[{"key":"ca.crt","path":"ca.crt"}],"name":"kube-root-ca.crt"}},
              {"downwardAPI":{"items":[{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"},"path":"namespace"}]}}]}
            """);
        Assert.True(JsonNode.DeepEquals(expected, JsonNode.Parse(KubernetesJson.Serialize(volume.Projected))), KubernetesJson.Serialize(volume.Projected));

        var tokenMount = new { Name = volume.Name, ReadOnly = (bool?)true, Path = "/var/run/secrets/kubernetes.io/serviceaccount" };
        Assert.Equal(tokenMount, Mount(pod.Spec.InitContainers.Single()));
        Assert.Equal(tokenMount, Mount(pod.Spec.Containers.Single(c => c.Name == "main")));
        Assert.Equal("mine", Assert.Single(pod.Spec.Containers.Single(c => c.Name == "own").VolumeMounts).Name);

        // What admission adds is nobody's field: kubectl's managedFields list only what the client sent.
        string managed = KubernetesJson.Serialize(pod.Metadata.ManagedFields);
        Assert.DoesNotContain("kube-api-access", managed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AutomountServiceAccountToken_false_on_the_pod_or_its_account_mounts_nothing_and_the_pods_true_wins()
    {
        var offOnPod = await CreateAsync("off-on-pod", spec => spec.AutomountServiceAccountToken = false);
        var offOnAccount = await CreateAsync("off-on-account", spec => spec.ServiceAccountName = "quiet");
        var podWins = await CreateAsync("pod-wins", spec =>
        {
            spec.ServiceAccountName = "quiet";
            spec.AutomountServiceAccountToken = true;
        });

        Assert.Null(offOnPod.Spec.Volumes);
        Assert.Null(offOnPod.Spec.Containers.Single().VolumeMounts);
        Assert.Equal("default", offOnPod.Spec.ServiceAccountName);
        Assert.Null(offOnAccount.Spec.Volumes);
        Assert.StartsWith("kube-api-access-", Assert.Single(podWins.Spec.Volumes).Name, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pod_naming_a_missing_account_is_refused_with_kube_apiservers_403()
    {
        using var dir = new TempDirectory();
        string file = dir.File("pod.yaml");
        await File.WriteAllTextAsync(file, """
            apiVersion: v1
            kind: Pod
            metadata:
              name: ghostly
            spec:
              serviceAccountName: ghost
              containers:
              - name: main
                image: busybox
            """);
        var result = await _server.Kubectl.RunAsync("create", "-f", file, "-n", Ns);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(
            "Error from server (Forbidden): error when creating \"" + file + "\": pods \"ghostly\" is forbidden: error looking up service account default/ghost: serviceaccount \"ghost\" not found",
            result.Stderr.Trim());
    }

    [Fact]
    public async Task A_node_gets_tokens_only_bound_to_its_own_pods_for_their_account()
    {
        var mine = await CreateAsync("on-n1", spec => spec.NodeName = "n1");
        var theirs = await CreateAsync("on-n2", spec => spec.NodeName = "n2");
        using var node = new Kubernetes(_server.Host.ClientConfigurationFor(BootstrapIdentities.NodeUser("n1"), BootstrapIdentities.NodesGroup));

        Task<Authenticationv1TokenRequest> RequestAsync(string account, V1BoundObjectReference? bound) => node.CoreV1.CreateNamespacedServiceAccountTokenAsync(
            new Authenticationv1TokenRequest { Spec = new V1TokenRequestSpec { ExpirationSeconds = 3607, BoundObjectRef = bound } }, account, Ns);
        static V1BoundObjectReference To(V1Pod pod, string? uid = null) => new() { ApiVersion = "v1", Kind = "Pod", Name = pod.Metadata.Name, Uid = uid ?? pod.Metadata.Uid };

        var issued = await RequestAsync("default", To(mine));
        Assert.False(string.IsNullOrEmpty(issued.Status.Token));

        await AssertForbiddenAsync(() => RequestAsync("default", null), "serviceaccounts \"default\" is forbidden: node requested token not bound to a pod");
        await AssertForbiddenAsync(() => RequestAsync("default", To(mine, uid: "")), "serviceaccounts \"default\" is forbidden: node requested token with a pod binding without a uid");
        await AssertForbiddenAsync(() => RequestAsync("default", To(theirs)), "serviceaccounts \"default\" is forbidden: node requested token bound to a pod scheduled on a different node");
        await AssertForbiddenAsync(
            () => RequestAsync("quiet", To(mine)),
            "serviceaccounts \"quiet\" is forbidden: User \"system:node:n1\" cannot create resource \"serviceaccounts/token\" in API group \"\" in the namespace \"default\": no relationship found between node 'n1' and this object");
    }

    private static object Mount(V1Container container)
    {
        var mount = Assert.Single(container.VolumeMounts);
        return new { Name = mount.Name, ReadOnly = mount.ReadOnlyProperty, Path = mount.MountPath };
    }

    private static async Task AssertForbiddenAsync(Func<Task> request, string message)
    {
        var e = await Assert.ThrowsAsync<HttpOperationException>(request);
        Assert.Equal(HttpStatusCode.Forbidden, e.Response.StatusCode);
        Assert.Equal(message, JsonNode.Parse(e.Response.Content)!["message"]!.ToString());
    }

    private Task<V1Pod> CreateAsync(string name, Action<V1PodSpec> configure)
    {
        var spec = new V1PodSpec { Containers = [new V1Container { Name = "main", Image = "busybox" }] };
        configure(spec);
        return Client.CoreV1.CreateNamespacedPodAsync(new V1Pod { Metadata = new V1ObjectMeta { Name = name }, Spec = spec }, Ns);
    }
}
