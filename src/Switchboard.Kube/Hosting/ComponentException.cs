namespace Switchboard.Kube.Hosting;

/// <summary>A component failed to start or while running; its message is the one line a process prints about it.</summary>
public sealed class ComponentException(string component, Exception inner) : Exception($"{component} failed: {inner.Message}", inner)
{
    /// <summary>The failed component's name.</summary>
    public string Component { get; } = component;
}
