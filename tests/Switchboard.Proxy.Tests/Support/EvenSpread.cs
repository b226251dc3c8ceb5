namespace Switchboard.Proxy.Tests.Support;

/// <summary>
/// The issue's statistical check, the same in every proxy mode: connections to a service are answered by all of its
/// endpoints, each share within chi-square bounds (p &gt; 0.001 against an even spread).
/// </summary>
internal static class EvenSpread
{
    private const double MinimumP = 0.001;

    // The chi-square statistic above which p < 0.001, by degrees of freedom (1 to 4).
    private static readonly double[] CriticalChiSquare = [double.NaN, 10.828, 13.816, 16.266, 18.467];

    /// <summary>Asserts that every answer names one of <paramref name="endpoints"/> and that the shares fit an even spread.</summary>
    public static void Assert(IReadOnlyList<string> endpoints, IReadOnlyList<string> answers)
    {
        var counts = endpoints.ToDictionary(name => name, name => answers.Count(a => a == name));
        Xunit.Assert.True(counts.Values.Sum() == answers.Count, $"every connection is answered by one of {endpoints.Count} endpoints: {string.Join(", ", answers.Distinct())}");
        double expected = (double)answers.Count / endpoints.Count;
        double chiSquare = counts.Values.Sum(observed => Math.Pow(observed - expected, 2) / expected);
        double critical = CriticalChiSquare[endpoints.Count - 1];
        Xunit.Assert.True(chiSquare < critical, $"shares {string.Join(", ", counts)} give chi-square {chiSquare:F2}, above {critical} (p < {MinimumP})");
    }
}
