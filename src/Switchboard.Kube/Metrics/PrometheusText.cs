using System.Globalization;
using System.Text;

namespace Switchboard.Kube.Metrics;

/// <summary>The lexical rules of the Prometheus text exposition format 0.0.4.</summary>
public static class PrometheusText
{
    /// <summary>The content type of a scrape, as Prometheus negotiates the text format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>A sample value: Go's float syntax, with <c>+Inf</c>, <c>-Inf</c> and <c>NaN</c>.</summary>
    public static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>A label value: backslash, double quote and line feed escaped.</summary>
    internal static void AppendLabelValue(StringBuilder text, string value)
    {
        foreach (char c in value)
        {
            _ = c switch
            {
                '\\' => text.Append(@"\\"),
                '"' => text.Append("\\\""),
                '\n' => text.Append(@"\n"),
                _ => text.Append(c),
            };
        }
    }

    /// <summary>HELP text: backslash and line feed escaped.</summary>
    internal static string Help(string text) => text.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("\n", @"\n", StringComparison.Ordinal);
}
