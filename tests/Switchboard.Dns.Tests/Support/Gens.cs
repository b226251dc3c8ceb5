using CsCheck;

namespace Switchboard.Dns.Tests.Support;

internal static class Gens
{
    /// <summary>One of the given values, uniformly.</summary>
    public static Gen<T> Pick<T>(params T[] values) => Gen.Int[0, values.Length - 1].Select(i => values[i]);
}
