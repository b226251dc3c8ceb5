namespace Switchboard.Kube.Queues;

/// <summary>
/// A work queue as controllers use it (client-go's semantics): an item queued several times before a worker takes
/// it is processed once; an item is never processed by two workers at once (re-added while in flight, it is queued
/// again when the worker calls <see cref="Done"/>); failed items come back after a per-item exponential backoff, and
/// all retries together are held to a token bucket (client-go's DefaultControllerRateLimiter: 10 per second, burst 100)
/// so a failure hitting every key at once does not turn into a storm of requests. <see cref="AddFirst"/> puts an item
/// ahead of those waiting.
/// </summary>
public sealed class WorkQueue<T> : IDisposable
    where T : notnull
{
    private readonly Lock _lock = new();
    private readonly LinkedList<T> _waiting = new();
    private readonly Dictionary<T, LinkedListNode<T>> _positions = [];
    private readonly HashSet<T> _firstOnDone = [];
    private readonly HashSet<T> _dirty = [];
    private readonly HashSet<T> _processing = [];
    private readonly Dictionary<T, int> _failures = [];
    private readonly SemaphoreSlim _ready = new(0);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _baseDelay;
    private readonly TimeSpan _maxDelay;
    private readonly TokenBucket _retries;
    private readonly WorkQueueMetrics.Queue? _metrics;
    private readonly Dictionary<T, long> _addedAt = [];
    private readonly Dictionary<T, long> _startedAt = [];

    /// <summary>A queue; with <c>metrics</c> its depth, adds, retries and latencies are counted under <c>name</c> (client-go's workqueue metrics).</summary>
    public WorkQueue(
        TimeProvider? time = null, TimeSpan? baseDelay = null, TimeSpan? maxDelay = null, double retriesPerSecond = 10, int retryBurst = 100, string? name = null, WorkQueueMetrics? metrics = null)
    {
        _time = time ?? TimeProvider.System;
        _baseDelay = baseDelay ?? TimeSpan.FromMilliseconds(5);
        _maxDelay = maxDelay ?? TimeSpan.FromMinutes(5);
        _retries = new TokenBucket(retriesPerSecond, retryBurst, _time);
        if (metrics is not null)
        {
            ArgumentException.ThrowIfNullOrEmpty(name);
            _metrics = metrics.For(name);
        }
    }

    public bool IsShuttingDown => _shutdown.IsCancellationRequested;

    /// <summary>Items waiting (not counting those in flight).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _waiting.Count;
            }
        }
    }

    public void Add(T item)
    {
        lock (_lock)
        {
            if (_shutdown.IsCancellationRequested || !_dirty.Add(item))
            {
                return;
            }

            // Counted as client-go does: a new dirty item, even one that waits for its worker to finish first.
            if (_metrics is not null)
            {
                _metrics.Added();
                _addedAt.TryAdd(item, _time.GetTimestamp());
            }

            if (_processing.Contains(item))
            {
                return;
            }

            _positions[item] = _waiting.AddLast(item);
        }

        _ready.Release();
    }

    /// <summary>
    /// As <see cref="Add"/>, but ahead of every item waiting (one already waiting moves to the front; one in flight comes
    /// back first once done): for a change someone waits to see, such as a pod's readiness, which would otherwise wait
    /// behind every pod a burst has just queued.
    /// </summary>
    public void AddFirst(T item)
    {
        lock (_lock)
        {
            if (_shutdown.IsCancellationRequested)
            {
                return;
            }

            if (_dirty.Add(item) && _metrics is not null)
            {
                _metrics.Added();
                _addedAt.TryAdd(item, _time.GetTimestamp());
            }

            if (_processing.Contains(item))
            {
                _firstOnDone.Add(item);
                return;
            }

            if (_positions.TryGetValue(item, out var waiting))
            {
                _waiting.Remove(waiting);
                _waiting.AddFirst(waiting);
                return;
            }

            _positions[item] = _waiting.AddFirst(item);
        }

        _ready.Release();
    }

    /// <summary>Adds the item once <paramref name="delay"/> has passed.</summary>
    public void AddAfter(T item, TimeSpan delay)
    {
        if (!_shutdown.IsCancellationRequested)
        {
            _metrics?.Retried();
        }

        if (delay <= TimeSpan.Zero)
        {
            Add(item);
            return;
        }

        _ = AddLaterAsync(item, delay);
    }

    /// <summary>
    /// Adds the item after its backoff, base × 2^(failures so far) capped, or later when the retry bucket is empty;
    /// counts one more failure.
    /// </summary>
    public void AddRateLimited(T item)
    {
        int failures;
        TimeSpan bucketDelay;
        lock (_lock)
        {
            failures = _failures.GetValueOrDefault(item);
            _failures[item] = failures + 1;
            bucketDelay = _retries.Reserve();
        }

        double ticks = _baseDelay.Ticks * Math.Pow(2, Math.Min(failures, 40));
        var itemDelay = TimeSpan.FromTicks((long)Math.Min(ticks, _maxDelay.Ticks));
        AddAfter(item, itemDelay > bucketDelay ? itemDelay : bucketDelay);
    }

    /// <summary>Forgets the item's failures (it succeeded or was given up).</summary>
    public void Forget(T item)
    {
        lock (_lock)
        {
            _failures.Remove(item);
        }
    }

    public int Requeues(T item)
    {
        lock (_lock)
        {
            return _failures.GetValueOrDefault(item);
        }
    }

    /// <summary>Waits for the next item; false once the queue is shut down and empty.</summary>
    public async Task<(bool Ok, T Item)> GetAsync(CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
        try
        {
            await _ready.WaitAsync(linked.Token);
        }
        catch (OperationCanceledException) when (_shutdown.IsCancellationRequested)
        {
            // Shutting down: hand out what is left, then report the end.
        }

        lock (_lock)
        {
            if (_waiting.First is not { } first)
            {
                return (false, default!);
            }

            var item = first.Value;
            _waiting.RemoveFirst();
            _positions.Remove(item);
            _dirty.Remove(item);
            _processing.Add(item);
            if (_metrics is not null)
            {
                long now = _time.GetTimestamp();
                _metrics.Taken(_addedAt.Remove(item, out long added) ? _time.GetElapsedTime(added, now) : TimeSpan.Zero);
                _startedAt[item] = now;
            }

            return (true, item);
        }
    }

    /// <summary>Marks the item's processing finished; if it was added meanwhile it is queued again.</summary>
    public void Done(T item)
    {
        bool requeue;
        lock (_lock)
        {
            _processing.Remove(item);
            if (_metrics is not null && _startedAt.Remove(item, out long started))
            {
                _metrics.Processed(_time.GetElapsedTime(started));
            }

            requeue = _dirty.Contains(item) && !_shutdown.IsCancellationRequested;
            bool first = _firstOnDone.Remove(item);
            if (requeue)
            {
                _positions[item] = first ? _waiting.AddFirst(item) : _waiting.AddLast(item);
            }
        }

        if (requeue)
        {
            _ready.Release();
        }
    }

    /// <summary>Stops accepting items; waiting workers drain what is queued and then get false.</summary>
    public void ShutDown() => _shutdown.Cancel();

    public void Dispose()
    {
        _shutdown.Cancel();
        _shutdown.Dispose();
        _ready.Dispose();
    }

    private async Task AddLaterAsync(T item, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _time, _shutdown.Token);
            Add(item);
        }
        catch (OperationCanceledException)
        {
            // Shut down before the delay passed.
        }
        catch (ObjectDisposedException)
        {
            // Disposed before the delay passed.
        }
    }
}
