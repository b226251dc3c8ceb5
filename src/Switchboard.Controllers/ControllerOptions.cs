namespace Switchboard.Controllers;

/// <summary>What the controller manager runs and how.</summary>
public sealed record ControllerOptions
{
    /// <summary>Concurrent workers per controller (the scheduler always works one pod at a time).</summary>
    public int Workers { get; init; } = 4;

    /// <summary>Whether to bind unscheduled pods to nodes (off when another scheduler does it).</summary>
    public bool EnableScheduler { get; init; } = true;

    /// <summary>How often every object is reconciled again even without a change.</summary>
    public TimeSpan ResyncPeriod { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The most endpoints one EndpointSlice holds (upstream's --max-endpoints-per-slice).</summary>
    public int MaxEndpointsPerSlice { get; init; } = 100;

    /// <summary>How often the garbage collector looks again at an owner of a kind it has no informer for.</summary>
    public TimeSpan UnwatchedOwnerRecheck { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The clock; the system clock unless a test drives it.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
