namespace Switchboard.Controllers.Shared;

/// <summary>
/// The writes a controller made that its informer may not show yet: pods it created (by name) and pods it deleted.
/// A sync counts them as done, so a slow watch never makes the controller create or delete twice. An entry ends once
/// the cache shows the write, or after a timeout in case the informer never shows it (e.g. deleted by someone else).
/// </summary>
internal sealed class Expectations
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Dictionary<string, (bool Create, DateTimeOffset At)>> _byOwner = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public Expectations(TimeProvider time) => _time = time;

    public void Created(string owner, string name) => Add(owner, name, create: true);

    public void Deleted(string owner, string name) => Add(owner, name, create: false);

    /// <summary>
    /// The names still pending for <paramref name="owner"/>: creates the cache does not show yet, deletes of pods the
    /// cache still shows as active. <paramref name="shownAsActive"/> says whether the cache has the name as an active pod;
    /// <paramref name="shown"/> whether the cache has it at all.
    /// </summary>
    public (IReadOnlySet<string> Creates, IReadOnlySet<string> Deletes) Pending(string owner, Func<string, bool> shown, Func<string, bool> shownAsActive)
    {
        var creates = new HashSet<string>(StringComparer.Ordinal);
        var deletes = new HashSet<string>(StringComparer.Ordinal);
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            if (!_byOwner.TryGetValue(owner, out var entries))
            {
                return (creates, deletes);
            }

            foreach (var (name, (create, at)) in entries.ToList())
            {
                bool done = create ? shown(name) : !shownAsActive(name);
                if (done || now - at > Timeout)
                {
                    entries.Remove(name);
                }
                else
                {
                    (create ? creates : deletes).Add(name);
                }
            }

            if (entries.Count == 0)
            {
                _byOwner.Remove(owner);
            }
        }

        return (creates, deletes);
    }

    public void Forget(string owner)
    {
        lock (_lock)
        {
            _byOwner.Remove(owner);
        }
    }

    private void Add(string owner, string name, bool create)
    {
        lock (_lock)
        {
            if (!_byOwner.TryGetValue(owner, out var entries))
            {
                _byOwner[owner] = entries = new Dictionary<string, (bool, DateTimeOffset)>(StringComparer.Ordinal);
            }

            entries[name] = (create, _time.GetUtcNow());
        }
    }
}
