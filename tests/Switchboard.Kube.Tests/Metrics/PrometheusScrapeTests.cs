using Switchboard.Testing;

namespace Switchboard.Kube.Tests.Metrics;

/// <summary>The tests' Prometheus text parser accepts the format and rejects what Prometheus would not ingest.</summary>
public sealed class PrometheusScrapeTests
{
    private const string Valid = """
        # HELP requests_total Requests, by "code".\nSecond line \\ done.
        # TYPE requests_total counter
        requests_total{code="200",path="a\"b\\c\nd"} 3
        requests_total{code="500",path=""} 0 1700000000000
        # a plain comment
        # TYPE latency_seconds histogram
        latency_seconds_bucket{le="0.1"} 1
        latency_seconds_bucket{le="1"} 2
        latency_seconds_bucket{le="+Inf"} 2
        latency_seconds_sum 0.55
        latency_seconds_count 2
        temperature 1.5e-05

        """;

    [Fact]
    public void Parses_samples_with_unescaped_labels_and_types()
    {
        PrometheusScrape scrape = PrometheusScrape.Parse(Valid);

        Assert.Equal(3, scrape.Value("requests_total", ("code", "200")));
        Assert.Single(scrape.Find("requests_total", ("path", "a\"b\\c\nd")));
        Assert.Equal(2, scrape.Value("latency_seconds_count"));
        Assert.Equal(1.5e-05, scrape.Value("temperature"));
        Assert.Equal("histogram", scrape.FamilyTypes["latency_seconds"]);
        Assert.Equal(3, scrape.Sum("requests_total"));
    }

    [Theory]
    [InlineData("no_newline 1", "line feed")]
    [InlineData("1bad_name 1\n", "metric name")]
    [InlineData("m{1a=\"x\"} 1\n", "label name")]
    [InlineData("m{a=\"x\",a=\"y\"} 1\n", "repeated")]
    [InlineData("m{a=\"\\t\"} 1\n", "escape")]
    [InlineData("m{a=\"x\" 1\n", "expected")]
    [InlineData("m{a=\"x\n", "ends inside")]
    [InlineData("m one\n", "not a number")]
    [InlineData("m 1 2 3\n", "timestamp")]
    [InlineData("# TYPE m counter\n# TYPE m counter\nm 1\n", "second TYPE")]
    [InlineData("# TYPE m widget\nm 1\n", "unknown type")]
    [InlineData("m 1\n# TYPE m gauge\n", "after its samples")]
    [InlineData("# TYPE m counter\nm -1\n", "negative")]
    [InlineData("a 1\nb 1\na{x=\"1\"} 1\n", "not contiguous")]
    [InlineData("m 1\nm 2\n", "repeated")]
    [InlineData("# TYPE h histogram\nh 1\n", "_bucket, _sum or _count")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "+Inf")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", "decreases")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", "previous bound")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n", "+Inf bucket's")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", "_sum")]
    public void Rejects_malformed_text_naming_the_problem(string text, string problem)
    {
        var error = Assert.Throws<FormatException>(() => PrometheusScrape.Parse(text));

        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }
}
