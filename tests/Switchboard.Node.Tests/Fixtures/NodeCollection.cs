namespace Switchboard.Node.Tests.Fixtures;

/// <summary>The node tests share one cluster and run one at a time (one of them restarts the agent).</summary>
[CollectionDefinition(Name)]
public sealed class NodeCollection : ICollectionFixture<NodeFixture>
{
    public const string Name = "node";
}
