using k8s;
using Switchboard.Node.Tests.Fixtures;
using Switchboard.Testing;

namespace Switchboard.Node.Tests.Kubelet;

/// <summary>The node's heartbeat: its Lease in kube-node-lease, renewed every status period (10 s in kubelet; 2 s in the fixture).</summary>
[Collection(NodeCollection.Name)]
public sealed class NodeLeaseTests(NodeFixture fixture)
{
    [Fact]
    public async Task The_node_holds_a_Lease_owned_by_its_Node_and_renews_it()
    {
        string name = fixture.Options.NodeName;
        var node = await fixture.Client.CoreV1.ReadNodeAsync(name);
        var lease = await fixture.Client.CoordinationV1.ReadNamespacedLeaseAsync(name, "kube-node-lease");

        Assert.Equal(name, lease.Spec.HolderIdentity);
        Assert.Equal(40, lease.Spec.LeaseDurationSeconds);
        var owner = Assert.Single(lease.Metadata.OwnerReferences);
        Assert.Equal(("v1", "Node", name, node.Metadata.Uid), (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid));

        var renewed = lease.Spec.RenewTime;
        await Eventually.WaitAsync(
            async () => (await fixture.Client.CoordinationV1.ReadNamespacedLeaseAsync(name, "kube-node-lease")).Spec.RenewTime > renewed,
            "the Lease renewed", TimeSpan.FromSeconds(15));
    }
}
