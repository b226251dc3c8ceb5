namespace Switchboard.Kube.Metrics;

/// <summary>
/// Metrics a component keeps itself and writes at scrape time (complete families: HELP, TYPE, samples), for
/// counters on a hot path that the instruments' per-measurement dispatch would slow down.
/// </summary>
public interface IMetricsCollector
{
    void WriteTo(TextWriter writer);
}
