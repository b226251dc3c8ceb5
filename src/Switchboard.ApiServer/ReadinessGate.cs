using System.Collections.Concurrent;
using System.Text;

namespace Switchboard.ApiServer;

/// <summary>
/// The components that must have synced before <c>/readyz</c> answers 200, as in <c>switchboard up</c>, where
/// the API server reports on the controllers, DNS and proxy running beside it.
/// </summary>
public sealed class ReadinessGate
{
    private readonly ConcurrentDictionary<string, bool> _components = new(StringComparer.Ordinal);

    /// <summary>Adds a component that is not ready until <see cref="MarkReady"/> names it.</summary>
    public void Require(string component) => _components.TryAdd(component, false);

    public void MarkReady(string component) => _components[component] = true;

    /// <summary>Whether every required component is ready, and a report in kube-apiserver's <c>[+]name ok</c> style.</summary>
    public bool Check(out string report)
    {
        var text = new StringBuilder();
        bool ready = true;
        foreach (var (component, isReady) in _components.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            text.Append(isReady ? "[+]" : "[-]").Append(component).Append(isReady ? " ok\n" : " not synced\n");
            ready &= isReady;
        }

        text.Append(ready ? "readyz check passed\n" : "readyz check failed\n");
        report = text.ToString();
        return ready;
    }
}
