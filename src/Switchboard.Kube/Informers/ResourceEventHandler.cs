namespace Switchboard.Kube.Informers;

/// <summary>What an informer calls on a change: an add, an update (old, new; old == new on resync), a delete.</summary>
internal sealed record ResourceEventHandler<T>(Action<T>? OnAdd, Action<T, T>? OnUpdate, Action<T>? OnDelete);
