namespace Switchboard.Kube.Metrics;

/// <summary>Finds a series from a measurement's tags without building a <see cref="LabelSet"/> (no allocation on the hot path).</summary>
internal sealed class LabelSetComparer : IEqualityComparer<LabelSet>, IAlternateEqualityComparer<ReadOnlySpan<KeyValuePair<string, object?>>, LabelSet>
{
    public static readonly LabelSetComparer Instance = new();

    public bool Equals(LabelSet? x, LabelSet? y) =>
        ReferenceEquals(x, y) || (x is not null && y is not null && x.Names.AsSpan().SequenceEqual(y.Names) && x.Values.AsSpan().SequenceEqual(y.Values));

    public int GetHashCode(LabelSet obj)
    {
        int hash = obj.Names.Length;
        for (int i = 0; i < obj.Names.Length; i++)
        {
            hash += HashCode.Combine(obj.Names[i], obj.Values[i]);
        }

        return hash;
    }

    public bool Equals(ReadOnlySpan<KeyValuePair<string, object?>> alternate, LabelSet other) => other.Matches(alternate);

    public int GetHashCode(ReadOnlySpan<KeyValuePair<string, object?>> alternate) => LabelSet.Hash(alternate);

    public LabelSet Create(ReadOnlySpan<KeyValuePair<string, object?>> alternate) => LabelSet.From(alternate);
}
