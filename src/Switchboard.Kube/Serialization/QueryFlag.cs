namespace Switchboard.Kube.Serialization;

/// <summary>
/// A boolean query parameter as apimachinery decodes it (kubectl sends <c>true</c>, KubernetesClient <c>1</c>): absent,
/// <c>0</c> or <c>false</c> (any case) is false, anything else, even empty, true. The API server and the node read
/// pods/log, exec and attach flags alike.
/// </summary>
public static class QueryFlag
{
    public static bool IsTrue(IReadOnlyList<string?> values) =>
        values is { Count: > 0 } && values[0] is var value && value != "0" && !string.Equals(value, "false", StringComparison.OrdinalIgnoreCase);
}
