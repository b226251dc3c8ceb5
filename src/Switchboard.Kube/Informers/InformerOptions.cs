namespace Switchboard.Kube.Informers;

/// <summary>Tuning of an <see cref="Informer{T}"/>.</summary>
public sealed record InformerOptions
{
    /// <summary>How often every cached object is handed to the update handlers again (zero: never).</summary>
    public TimeSpan ResyncPeriod { get; init; } = TimeSpan.Zero;

    /// <summary>The first wait after a failed list or watch; doubled per consecutive failure.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest wait between attempts.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The server-side timeout of one watch request; the informer then watches again from where it was.</summary>
    public int WatchTimeoutSeconds { get; init; } = 300;
}
