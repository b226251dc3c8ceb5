using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Switchboard.Kube.Hosting;

/// <summary>
/// The readiness of a process's components, from their health checks: what the API server's <c>/readyz</c> and DNS's
/// <c>/ready</c> answer, in kube-apiserver's words (<c>[+]dns ok</c>, then <c>readyz check passed</c>).
/// </summary>
public sealed class Readiness(HealthCheckService health)
{
    /// <summary>The tag of the health checks that readiness is made of.</summary>
    public const string Tag = "ready";

    /// <summary>Every component's readiness, or only <paramref name="component"/>'s.</summary>
    public async Task<(bool Ready, string Report)> CheckAsync(string? component, CancellationToken cancellationToken)
    {
        HealthReport report = await health.CheckHealthAsync(r => r.Tags.Contains(Tag) && (component is null || r.Name == component), cancellationToken);
        var text = new StringBuilder();
        foreach (var (name, entry) in report.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            text.Append(entry.Status == HealthStatus.Healthy ? $"[+]{name} ok\n" : $"[-]{name} failed: {entry.Description}\n");
        }

        bool ready = report.Status == HealthStatus.Healthy;
        text.Append(ready ? "readyz check passed\n" : "readyz check failed\n");
        return (ready, text.ToString());
    }
}
