namespace Switchboard.Controllers.Tests.Fixtures;

/// <summary>Tests sharing one cluster run one at a time (some stop the controllers or cordon the node).</summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
