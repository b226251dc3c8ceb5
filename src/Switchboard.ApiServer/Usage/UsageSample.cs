using System.Globalization;

namespace Switchboard.ApiServer.Usage;

/// <summary>
/// One scrape of a node's <c>/metrics/resource</c> (kubelet's resource metrics): cumulative cpu seconds and working set
/// bytes of the node and of each running container, each with the time the node stamped on it.
/// </summary>
internal sealed record UsageSample(Reading? Node, IReadOnlyDictionary<ContainerKey, ContainerReading> Containers)
{
    /// <summary>Reads the families metrics-server reads; other lines (and containers missing cpu or memory) are left out.</summary>
    public static UsageSample Parse(string text)
    {
        double? nodeCpu = null, nodeMemory = null;
        DateTimeOffset nodeTime = default;
        var cpu = new Dictionary<ContainerKey, (double Value, DateTimeOffset Time)>();
        var memory = new Dictionary<ContainerKey, double>();
        var starts = new Dictionary<ContainerKey, double>();
        foreach (string line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#' || Line.Parse(line) is not { } sample)
            {
                continue;
            }

            switch (sample.Name)
            {
                case "node_cpu_usage_seconds_total":
                    nodeCpu = sample.Value;
                    nodeTime = sample.Time;
                    break;
                case "node_memory_working_set_bytes":
                    nodeMemory = sample.Value;
                    break;
                case "container_cpu_usage_seconds_total" when sample.Container is { } key:
                    cpu[key] = (sample.Value, sample.Time);
                    break;
                case "container_memory_working_set_bytes" when sample.Container is { } key:
                    memory[key] = sample.Value;
                    break;
                case "container_start_time_seconds" when sample.Container is { } key:
                    starts[key] = sample.Value;
                    break;
            }
        }

        var containers = new Dictionary<ContainerKey, ContainerReading>();
        foreach (var (key, (value, time)) in cpu)
        {
            if (memory.TryGetValue(key, out double bytes))
            {
                containers[key] = new ContainerReading(new Reading(value, bytes, time), starts.GetValueOrDefault(key));
            }
        }

        return new UsageSample(nodeCpu is { } c && nodeMemory is { } m ? new Reading(c, m, nodeTime) : null, containers);
    }

    /// <summary>One sample line: <c>name{labels} value timestamp-ms</c>, with the container's labels when it has them.</summary>
    private sealed record Line(string Name, ContainerKey? Container, double Value, DateTimeOffset Time)
    {
        public static Line? Parse(string line)
        {
            int brace = line.IndexOf('{', StringComparison.Ordinal);
            int close = brace < 0 ? -1 : line.IndexOf('}', brace);
            string name = brace < 0 ? line[..Math.Max(0, line.IndexOf(' ', StringComparison.Ordinal))] : line[..brace];
            string rest = (close < 0 ? line[name.Length..] : line[(close + 1)..]).Trim();
            string[] fields = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (name.Length == 0 || fields.Length != 2
                || !double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
                || !long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long millis))
            {
                return null;
            }

            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (brace >= 0 && close > brace)
            {
                // Names, namespaces and container names are DNS labels: the node escapes nothing in them.
                foreach (string pair in line[(brace + 1)..close].Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    int eq = pair.IndexOf('=', StringComparison.Ordinal);
                    if (eq > 0)
                    {
                        labels[pair[..eq]] = pair[(eq + 1)..].Trim('"');
                    }
                }
            }

            ContainerKey? container = labels.TryGetValue("namespace", out string? ns) && labels.TryGetValue("pod", out string? pod) && labels.TryGetValue("container", out string? c)
                ? new ContainerKey(ns, pod, c)
                : null;
            return new Line(name, container, value, DateTimeOffset.FromUnixTimeMilliseconds(millis));
        }
    }
}

/// <summary>Cumulative cpu seconds and working set bytes at one time.</summary>
internal sealed record Reading(double CpuSeconds, double MemoryBytes, DateTimeOffset Time);

/// <summary>A container's reading and its start time (a new start resets its cpu counter).</summary>
internal sealed record ContainerReading(Reading Reading, double StartTime);

/// <summary>A container by pod namespace, pod name and container name.</summary>
internal readonly record struct ContainerKey(string Namespace, string Pod, string Container);
