namespace Switchboard.Kube.Informers;

/// <summary>Helpers for the handlers components give an <see cref="Informer{T}"/>.</summary>
public static class ResourceEventHandlers
{
    /// <summary>
    /// An update handler that skips resyncs (old and new the same object): a component that follows changes only, on
    /// an informer it shares with one that asked for resyncs (<see cref="SharedInformerSet"/>), sees no change in them.
    /// </summary>
    public static Action<T, T> Changes<T>(Action<T, T> onUpdate)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(onUpdate);
        return (old, current) =>
        {
            if (!ReferenceEquals(old, current))
            {
                onUpdate(old, current);
            }
        };
    }
}
