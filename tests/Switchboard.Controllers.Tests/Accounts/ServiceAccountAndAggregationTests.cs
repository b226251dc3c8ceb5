using k8s;
using k8s.Models;
using Switchboard.Controllers.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Controllers.Tests.Accounts;

/// <summary>
/// The service-account controller gives every namespace its <c>default</c> ServiceAccount, and the aggregation
/// controller keeps admin, edit and view the union of the roles labelled for them, and the root-CA publisher keeps the
/// cluster CA in every namespace, all run as the controller manager's own identity (system:kube-controller-manager),
/// not as the admin.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ServiceAccountAndAggregationTests(ClusterFixture cluster)
{
    private IKubernetes Client => cluster.Client;

    [Fact]
    public async Task Every_namespace_gets_a_default_service_account_made_again_when_deleted()
    {
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "accounts" } });
        await Eventually.WaitAsync(async () => (await Client.CoreV1.ListNamespacedServiceAccountAsync("accounts")).Items.Any(a => a.Metadata.Name == "default"), "the default account of a new namespace");
        string first = (await Client.CoreV1.ReadNamespacedServiceAccountAsync("default", "accounts")).Metadata.Uid;

        await Client.CoreV1.DeleteNamespacedServiceAccountAsync("default", "accounts");

        await Eventually.WaitAsync(
            async () => (await Client.CoreV1.ListNamespacedServiceAccountAsync("accounts")).Items.Any(a => a.Metadata.Name == "default" && a.Metadata.Uid != first),
            "a default account made again after its deletion");
        string table = await cluster.Server.KubectlOkAsync("get", "serviceaccounts", "-n", "accounts");
        Assert.Matches(@"(?m)^NAME\s+SECRETS\s+AGE\s*$", table);
        Assert.Matches(@"(?m)^default\s+0\s+\S+\s*$", table);
    }

    [Fact]
    public async Task Every_namespace_gets_kube_root_ca_crt_with_the_cluster_ca_put_back_when_edited_keeping_its_labels()
    {
        string ca = await File.ReadAllTextAsync(Path.Combine(cluster.Server.DataDirectory, "ca.crt"));
        await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "roots" } });
        async Task<V1ConfigMap?> PublishedAsync() =>
            (await Client.CoreV1.ListNamespacedConfigMapAsync("roots", fieldSelector: "metadata.name=kube-root-ca.crt")).Items.SingleOrDefault();

        await Eventually.WaitAsync(async () => (await PublishedAsync())?.Data?["ca.crt"] == ca, "kube-root-ca.crt in a new namespace");
        var published = (await PublishedAsync())!;
        Assert.Equal(
            "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.",
            published.Metadata.Annotations["kubernetes.io/description"]);

        published.Data = new Dictionary<string, string> { ["ca.crt"] = "not a CA", ["extra"] = "x" };
        published.Metadata.Labels = new Dictionary<string, string> { ["team"] = "a" };
        await Client.CoreV1.ReplaceNamespacedConfigMapAsync(published, "kube-root-ca.crt", "roots");

        await Eventually.WaitAsync(async () => (await PublishedAsync()) is { } back && back.Data.Count == 1 && back.Data["ca.crt"] == ca, "kube-root-ca.crt put back after an edit");
        Assert.Equal("a", (await PublishedAsync())!.Metadata.Labels["team"]);
    }

    [Fact]
    public async Task A_role_labelled_to_aggregate_to_view_reaches_view_edit_and_admin()
    {
        var widgets = new V1PolicyRule { ApiGroups = ["example.com"], Resources = ["widgets"], Verbs = ["get", "list"] };
        await Client.RbacAuthorizationV1.CreateClusterRoleAsync(new V1ClusterRole
        {
            Metadata = new V1ObjectMeta { Name = "widget-reader", Labels = new Dictionary<string, string> { ["rbac.authorization.k8s.io/aggregate-to-view"] = "true" } },
            Rules = [widgets],
        });

        foreach (string role in (string[])["view", "edit", "admin"])
        {
            await Eventually.WaitAsync(
                async () => (await Client.RbacAuthorizationV1.ReadClusterRoleAsync(role)).Rules?.Any(r => r.Resources?.Contains("widgets") == true) == true,
                $"{role} holds the widget rule");
        }

        // Edits to an aggregated role's rules are overwritten; removing the source removes its rules.
        await Client.RbacAuthorizationV1.DeleteClusterRoleAsync("widget-reader");
        await Eventually.WaitAsync(
            async () => (await Client.RbacAuthorizationV1.ReadClusterRoleAsync("admin")).Rules?.Any(r => r.Resources?.Contains("widgets") == true) == false,
            "admin loses the widget rule with its source");
        var view = await Client.RbacAuthorizationV1.ReadClusterRoleAsync("view");
        Assert.Contains(view.Rules, r => r.Resources?.Contains("pods/log") == true);
        Assert.DoesNotContain(view.Rules, r => r.Resources?.Contains("secrets") == true);
    }
}
