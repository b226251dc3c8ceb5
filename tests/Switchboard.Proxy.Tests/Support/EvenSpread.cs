namespace Switchboard.Proxy.Tests.Support;

/// <summary>The issue's statistical check: connections to a service with 3 endpoints are answered by all 3, each share within chi-square bounds.</summary>
internal static class EvenSpread
{
    private const double MinimumP = 0.001;

    /// <summary>Asserts that every answer names one of 3 endpoints and the shares fit a uniform spread with p above 0.001.</summary>
    public static void Assert3(IReadOnlyList<string> endpoints, IReadOnlyList<string> answers)
    {
        Assert.Equal(3, endpoints.Count);
        var counts = endpoints.ToDictionary(name => name, name => answers.Count(a => a == name));
        Assert.True(counts.Values.Sum() == answers.Count, $"every connection is answered by an endpoint: {string.Join(", ", answers.Distinct())}");
        double expected = answers.Count / 3.0;
        double chiSquare = counts.Values.Sum(observed => Math.Pow(observed - expected, 2) / expected);
        // With 3 endpoints the statistic has 2 degrees of freedom, where p = exp(-x/2) exactly.
        double p = Math.Exp(-chiSquare / 2);
        Assert.True(p > MinimumP, $"shares {string.Join(", ", counts)} give chi-square {chiSquare:F2}, p = {p:G3}");
    }
}
