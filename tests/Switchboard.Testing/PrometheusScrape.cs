using System.Globalization;
using System.Text;

namespace Switchboard.Testing;

/// <summary>
/// A strict parser of the Prometheus text exposition format 0.0.4, for asserting on <c>/metrics</c>: every line
/// must be a HELP, TYPE or other comment or a sample; names, labels and escapes must be well-formed; a family's
/// TYPE and HELP come at most once and before its samples, which are contiguous; no series repeats; counters are
/// non-negative; each histogram has increasing <c>le</c> bounds ending at +Inf, cumulative counts that never decrease,
/// a <c>_count</c> equal to its +Inf bucket and a <c>_sum</c>. Any violation throws <see cref="FormatException"/>
/// naming the line.
/// </summary>
public sealed class PrometheusScrape
{
    private static readonly HashSet<string> Types = new(["counter", "gauge", "histogram", "summary", "untyped"], StringComparer.Ordinal);

    private readonly Dictionary<string, string> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _help = new(StringComparer.Ordinal);
    private readonly List<PrometheusSample> _samples = [];

    private PrometheusScrape()
    {
    }

    public IReadOnlyList<PrometheusSample> Samples => _samples;

    /// <summary>The declared TYPE of each family.</summary>
    public IReadOnlyDictionary<string, string> FamilyTypes => _types;

    public static PrometheusScrape Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > 0 && !text.EndsWith('\n'))
        {
            throw new FormatException("the last line does not end with a line feed");
        }

        var scrape = new PrometheusScrape();
        var finished = new HashSet<string>(StringComparer.Ordinal);
        var series = new HashSet<string>(StringComparer.Ordinal);
        string? current = null;
        string[] lines = text.Split('\n')[..^1];
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            try
            {
                if (line.StartsWith('#'))
                {
                    scrape.Comment(line, finished);
                    continue;
                }

                PrometheusSample sample = Sample(line);
                string family = scrape.FamilyOf(sample.Name);
                if (family != current)
                {
                    if (current is not null)
                    {
                        finished.Add(current);
                    }

                    if (finished.Contains(family))
                    {
                        throw new FormatException($"the samples of {family} are not contiguous");
                    }

                    current = family;
                }

                if (!series.Add(sample.Name + "{" + string.Join(",", sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal)) + "}"))
                {
                    throw new FormatException("the series is repeated");
                }

                if (scrape._types.GetValueOrDefault(family) == "counter" && !(sample.Value >= 0))
                {
                    throw new FormatException("a counter is negative or NaN");
                }

                scrape._samples.Add(sample);
            }
            catch (FormatException e)
            {
                throw new FormatException($"line {i + 1} '{line}': {e.Message}", e);
            }
            catch (IndexOutOfRangeException e)
            {
                throw new FormatException($"line {i + 1} '{line}': ends inside its labels", e);
            }
        }

        scrape.CheckHistograms();
        return scrape;
    }

    /// <summary>The samples of <paramref name="name"/> that have the given labels.</summary>
    public IReadOnlyList<PrometheusSample> Find(string name, params (string Name, string Value)[] labels) =>
        [.. _samples.Where(s => s.Name == name && s.Has(labels))];

    /// <summary>The one sample of <paramref name="name"/> with the given labels; fails if there is none or several.</summary>
    public double Value(string name, params (string Name, string Value)[] labels)
    {
        IReadOnlyList<PrometheusSample> found = Find(name, labels);
        return found.Count == 1
            ? found[0].Value
            : throw new InvalidOperationException($"{found.Count} samples of {name} with {string.Join(",", labels)}");
    }

    /// <summary>The sum over the samples of <paramref name="name"/> that have the given labels (0 if none).</summary>
    public double Sum(string name, params (string Name, string Value)[] labels) => Find(name, labels).Sum(s => s.Value);

    private static PrometheusSample Sample(string line)
    {
        int at = 0;
        string name = Name(line, ref at, metric: true);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (at < line.Length && line[at] == '{')
        {
            at++;
            while (line[at] != '}')
            {
                string label = Name(line, ref at, metric: false);
                Expect(line, ref at, "=\"");
                if (!labels.TryAdd(label, LabelValue(line, ref at)))
                {
                    throw new FormatException($"label {label} repeated");
                }

                if (line[at] == ',')
                {
                    at++;
                }
                else if (line[at] != '}')
                {
                    throw new FormatException($"',' or '}}' expected at column {at + 1}");
                }
            }

            at++;
        }

        Expect(line, ref at, " ");
        string[] rest = line[at..].Split(' ');
        if (rest.Length > 2 || (rest.Length == 2 && !long.TryParse(rest[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)))
        {
            throw new FormatException("a value and at most a timestamp in milliseconds expected after the labels");
        }

        return new PrometheusSample(name, labels, Number(rest[0]));
    }

    private static double Number(string text) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ when text.Length > 0 && (char.IsAsciiDigit(text[^1]) || text[^1] == '.')
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) => value,
        _ => throw new FormatException($"'{text}' is not a number"),
    };

    private static string Name(string line, ref int at, bool metric)
    {
        int start = at;
        while (at < line.Length && (char.IsAsciiLetter(line[at]) || line[at] == '_' || (metric && line[at] == ':') || (at > start && char.IsAsciiDigit(line[at]))))
        {
            at++;
        }

        return at > start ? line[start..at] : throw new FormatException($"a {(metric ? "metric" : "label")} name expected at column {start + 1}");
    }

    private static string LabelValue(string line, ref int at)
    {
        var value = new StringBuilder();
        while (line[at] != '"')
        {
            if (line[at] == '\\')
            {
                at++;
                value.Append(line[at] switch
                {
                    '\\' => '\\',
                    '"' => '"',
                    'n' => '\n',
                    _ => throw new FormatException($"escape \\{line[at]} in a label value"),
                });
            }
            else
            {
                value.Append(line[at]);
            }

            at++;
        }

        at++;
        return value.ToString();
    }

    private static void Expect(string line, ref int at, string what)
    {
        if (!line.AsSpan(at).StartsWith(what, StringComparison.Ordinal))
        {
            throw new FormatException($"'{what}' expected at column {at + 1}");
        }

        at += what.Length;
    }

    private void Comment(string line, HashSet<string> finished)
    {
        string[] parts = line.Split(' ', 4);
        if (parts.Length < 3 || parts[0] != "#" || parts[1] is not ("HELP" or "TYPE"))
        {
            return; // A plain comment.
        }

        int at = 0;
        string name = Name(parts[2], ref at, metric: true);
        if (at != parts[2].Length)
        {
            throw new FormatException($"'{parts[2]}' is not a metric name");
        }

        if (finished.Contains(name) || _samples.Any(s => FamilyOf(s.Name) == name))
        {
            throw new FormatException($"{parts[1]} of {name} after its samples");
        }

        string argument = parts.Length == 4 ? parts[3] : "";
        if (parts[1] == "TYPE")
        {
            if (!Types.Contains(argument))
            {
                throw new FormatException($"unknown type '{argument}'");
            }

            if (!_types.TryAdd(name, argument))
            {
                throw new FormatException($"second TYPE of {name}");
            }
        }
        else
        {
            if (argument.Replace(@"\\", "", StringComparison.Ordinal).Replace(@"\n", "", StringComparison.Ordinal).Contains('\\', StringComparison.Ordinal))
            {
                throw new FormatException("an escape other than \\\\ and \\n in HELP");
            }

            if (!_help.TryAdd(name, argument))
            {
                throw new FormatException($"second HELP of {name}");
            }
        }
    }

    /// <summary>The family a sample belongs to: a histogram's or summary's for its suffixed series, else its own name.</summary>
    private string FamilyOf(string name)
    {
        foreach (string suffix in (string[])["_bucket", "_sum", "_count"])
        {
            if (name.EndsWith(suffix, StringComparison.Ordinal)
                && _types.GetValueOrDefault(name[..^suffix.Length]) is "histogram" or "summary"
                && (suffix != "_bucket" || _types[name[..^suffix.Length]] == "histogram"))
            {
                return name[..^suffix.Length];
            }
        }

        return _types.ContainsKey(name) && _types[name] == "histogram"
            ? throw new FormatException($"a histogram's sample must be {name}_bucket, _sum or _count")
            : name;
    }

    private void CheckHistograms()
    {
        foreach (string family in _types.Where(t => t.Value == "histogram").Select(t => t.Key))
        {
            var bySeries = _samples.Where(s => FamilyOf(s.Name) == family)
                .GroupBy(s => string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal)), StringComparer.Ordinal);
            foreach (var one in bySeries)
            {
                string where = $"histogram {family}{{{one.Key}}}";
                var buckets = one.Where(s => s.Name == family + "_bucket").ToList();
                double[] bounds = [.. buckets.Select(b => b.Labels.TryGetValue("le", out string? le) ? Number(le) : throw new FormatException($"{where}: a bucket without le"))];
                if (buckets.Count == 0 || !double.IsPositiveInfinity(bounds[^1]))
                {
                    throw new FormatException($"{where}: no +Inf bucket last");
                }

                for (int i = 1; i < buckets.Count; i++)
                {
                    if (!(bounds[i] > bounds[i - 1]) || buckets[i].Value < buckets[i - 1].Value)
                    {
                        throw new FormatException($"{where}: bucket le={bounds[i]} is not above the previous bound, or its count decreases");
                    }
                }

                PrometheusSample[] counts = [.. one.Where(s => s.Name == family + "_count")];
                PrometheusSample[] sums = [.. one.Where(s => s.Name == family + "_sum")];
                if (counts.Length != 1 || sums.Length != 1 || counts[0].Labels.ContainsKey("le") || sums[0].Labels.ContainsKey("le"))
                {
                    throw new FormatException($"{where}: one _count and one _sum without le expected");
                }

                if (counts[0].Value != buckets[^1].Value)
                {
                    throw new FormatException($"{where}: _count {counts[0].Value} is not the +Inf bucket's {buckets[^1].Value}");
                }
            }
        }
    }
}
