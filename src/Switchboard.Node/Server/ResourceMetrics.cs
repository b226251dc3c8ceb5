using System.Globalization;
using System.Text;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Switchboard.Kube.Metrics;
using Switchboard.Node.Kubelet;
using Switchboard.Node.Resources;

namespace Switchboard.Node.Server;

/// <summary>
/// kubelet's <c>/metrics/resource</c> (what metrics-server and <c>kubectl top</c> read): cpu time and memory working set
/// per running container, per pod and for the node, read from the cgroups and /proc at scrape time, each sample
/// stamped with the scrape time in milliseconds.
/// </summary>
internal sealed class ResourceMetrics(Func<IEnumerable<(V1Pod Pod, PodState State)>> pods, Cgroups? cgroups, TimeProvider time)
{
    public const string Path = "/metrics/resource";

    public async Task ServeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.ContentType = PrometheusText.ContentType;
        await context.Response.WriteAsync(Render(), context.RequestAborted);
    }

    public string Render()
    {
        string stamp = " " + time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) + "\n";
        var containerCpu = new StringBuilder();
        var containerMemory = new StringBuilder();
        var containerStart = new StringBuilder();
        var podCpu = new StringBuilder();
        var podMemory = new StringBuilder();
        foreach (var (pod, state) in cgroups is null ? [] : pods())
        {
            // Names, namespaces and container names are DNS labels: nothing in them needs escaping.
            string podLabels = $"namespace=\"{pod.Metadata.NamespaceProperty}\",pod=\"{pod.Metadata.Name}\"";
            foreach (var container in state.Containers.Values.Where(c => c.Running).OrderBy(c => c.Name, StringComparer.Ordinal))
            {
                if (cgroups!.ContainerUsage(pod, container.Name, container.RestartCount) is { } usage)
                {
                    string labels = $"{{container=\"{container.Name}\",{podLabels}}} ";
                    containerCpu.Append("container_cpu_usage_seconds_total").Append(labels).Append(Seconds(usage.CpuNanos)).Append(stamp);
                    containerMemory.Append("container_memory_working_set_bytes").Append(labels).Append(PrometheusText.Number(usage.WorkingSetBytes)).Append(stamp);
                    containerStart.Append("container_start_time_seconds").Append(labels)
                        .Append(PrometheusText.Number(container.Instance!.StartedAt.ToUnixTimeMilliseconds() / 1000.0)).Append(stamp);
                }
            }

            if (cgroups!.PodUsage(pod) is { } total)
            {
                podCpu.Append("pod_cpu_usage_seconds_total{").Append(podLabels).Append("} ").Append(Seconds(total.CpuNanos)).Append(stamp);
                podMemory.Append("pod_memory_working_set_bytes{").Append(podLabels).Append("} ").Append(PrometheusText.Number(total.WorkingSetBytes)).Append(stamp);
            }
        }

        var text = new StringBuilder();
        Family(text, "container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the container in core-seconds", containerCpu);
        Family(text, "container_memory_working_set_bytes", "gauge", "Current working set of the container in bytes", containerMemory);
        Family(text, "container_start_time_seconds", "gauge", "Start time of the container since unix epoch in seconds", containerStart);
        Family(text, "node_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the node in core-seconds",
            new StringBuilder("node_cpu_usage_seconds_total ").Append(PrometheusText.Number(NodeResources.CpuSeconds())).Append(stamp));
        Family(text, "node_memory_working_set_bytes", "gauge", "Current working set of the node in bytes",
            new StringBuilder("node_memory_working_set_bytes ").Append(PrometheusText.Number(NodeResources.MemoryWorkingSetBytes())).Append(stamp));
        Family(text, "pod_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the pod in core-seconds", podCpu);
        Family(text, "pod_memory_working_set_bytes", "gauge", "Current working set of the pod in bytes", podMemory);
        // Without cgroups no container can be measured: kubelet's error flag says so.
        Family(text, "resource_scrape_error", "gauge", "1 if there was an error while getting container metrics, 0 otherwise",
            new StringBuilder("resource_scrape_error ").Append(cgroups is null ? "1" : "0").Append('\n'));
        return text.ToString();
    }

    private static string Seconds(long nanos) => PrometheusText.Number(nanos / 1e9);

    private static void Family(StringBuilder text, string name, string type, string help, StringBuilder samples)
    {
        if (samples.Length == 0)
        {
            return;
        }

        text.Append("# HELP ").Append(name).Append(" [STABLE] ").Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        text.Append(samples);
    }
}
