namespace Switchboard.Node.Runtime;

/// <summary>
/// The pauses between looks at a file another process writes once (a container's pid, its setup done, a holder ready):
/// short at first, as most waits are, then doubling to a cap, so fifty pods starting at once on a busy machine do not
/// spend their CPU looking (at a fixed 2-5 ms, tens of thousands of looks a second while their programs start).
/// </summary>
internal struct PollBackoff(TimeSpan first, TimeSpan max)
{
    private TimeSpan _next = first;

    /// <summary>The pause before the next look.</summary>
    public TimeSpan Next()
    {
        var pause = _next;
        _next = _next * 2 < max ? _next * 2 : max;
        return pause;
    }
}
