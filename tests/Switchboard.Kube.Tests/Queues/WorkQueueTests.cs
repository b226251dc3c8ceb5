using Microsoft.Extensions.Time.Testing;
using Switchboard.Kube.Metrics;
using Switchboard.Kube.Queues;
using Switchboard.Testing;

namespace Switchboard.Kube.Tests.Queues;

public sealed class WorkQueueTests
{
    [Fact]
    public async Task Metrics_count_adds_retries_depth_and_latencies_under_the_queue_name_as_client_go()
    {
        var time = new FakeTimeProvider();
        using var registry = new MetricsRegistry();
        using var queue = new WorkQueue<string>(time, name: "things", metrics: new WorkQueueMetrics(registry));
        using var idle = new WorkQueue<string>(time, name: "idle", metrics: new WorkQueueMetrics(registry));
        queue.Add("a");
        queue.Add("a");
        queue.Add("b");
        time.Advance(TimeSpan.FromMilliseconds(20));
        var (_, item) = await queue.GetAsync();
        queue.Add(item); // dirty again while in flight: an add, and depth, though not queued until Done
        time.Advance(TimeSpan.FromMilliseconds(300));
        queue.Done(item);
        queue.AddAfter("c", TimeSpan.FromSeconds(1));

        PrometheusScrape scrape = PrometheusScrape.Parse(await registry.ScrapeAsync(CancellationToken.None));

        Assert.Equal(3, scrape.Value("workqueue_adds_total", ("name", "things")));
        Assert.Equal(2, scrape.Value("workqueue_depth", ("name", "things")));
        Assert.Equal(1, scrape.Value("workqueue_retries_total", ("name", "things")));
        Assert.Equal(1, scrape.Value("workqueue_queue_duration_seconds_count", ("name", "things")));
        Assert.Equal(0.02, scrape.Value("workqueue_queue_duration_seconds_sum", ("name", "things")), precision: 9);
        Assert.Equal(0.3, scrape.Value("workqueue_work_duration_seconds_sum", ("name", "things")), precision: 9);
        Assert.Equal(0, scrape.Value("workqueue_adds_total", ("name", "idle")));
        Assert.Equal("gauge", scrape.FamilyTypes["workqueue_depth"]);
    }

    [Fact]
    public async Task A_key_added_many_times_before_a_worker_takes_it_is_handed_out_once()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("a");
        queue.Add("b");
        queue.Add("a");
        queue.Add("a");

        Assert.Equal(2, queue.Count);
        Assert.Equal((true, "a"), await queue.GetAsync());
        Assert.Equal((true, "b"), await queue.GetAsync());
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task AddFirst_puts_a_key_ahead_of_those_waiting_and_moves_one_already_waiting_without_handing_it_out_twice()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("a");
        queue.Add("b");
        queue.Add("c");
        queue.AddFirst("new");
        queue.AddFirst("c");

        Assert.Equal(4, queue.Count);
        string[] order = [(await queue.GetAsync()).Item, (await queue.GetAsync()).Item, (await queue.GetAsync()).Item, (await queue.GetAsync()).Item];
        Assert.Equal(["c", "new", "a", "b"], order);
        Assert.Equal(0, queue.Count);
        queue.ShutDown();
        Assert.False((await queue.GetAsync()).Ok);
    }

    [Fact]
    public async Task A_key_added_first_while_in_flight_comes_back_ahead_of_those_waiting_once_done()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("a");
        var (_, item) = await queue.GetAsync();
        queue.Add("b");
        queue.AddFirst("a");
        queue.Add("a");
        Assert.Equal(1, queue.Count);

        queue.Done(item);
        Assert.Equal(2, queue.Count);
        Assert.Equal((true, "a"), await queue.GetAsync());
        queue.Done("a");
        Assert.Equal((true, "b"), await queue.GetAsync());
        queue.Done("b");

        // Done without a new add: nothing comes back, and a later plain add queues at the end again.
        queue.Add("c");
        queue.Add("a");
        Assert.Equal((true, "c"), await queue.GetAsync());
        Assert.Equal((true, "a"), await queue.GetAsync());
    }

    [Fact]
    public async Task A_key_added_while_in_flight_waits_for_Done_and_then_comes_back_once()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("a");
        var (_, item) = await queue.GetAsync();

        queue.Add("a");
        queue.Add("a");
        Assert.Equal(0, queue.Count);

        queue.Done(item);
        Assert.Equal(1, queue.Count);
        Assert.Equal((true, "a"), await queue.GetAsync());
        queue.Done("a");
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task Rate_limited_requeues_back_off_exponentially_per_key_until_forgotten()
    {
        var time = new FakeTimeProvider();
        using var queue = new WorkQueue<string>(time, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(35));

        // Failures 1, 2, 3, 4 wait 10, 20, 35 (capped), 35 ms.
        foreach (int wait in new[] { 10, 20, 35, 35 })
        {
            queue.AddRateLimited("a");
            time.Advance(TimeSpan.FromMilliseconds(wait - 1));
            Assert.Equal(0, queue.Count);
            time.Advance(TimeSpan.FromMilliseconds(1));
            await Eventually.WaitAsync(() => queue.Count == 1, $"key back after {wait} ms");
            await queue.GetAsync();
            queue.Done("a");
        }

        Assert.Equal(4, queue.Requeues("a"));
        queue.Forget("a");
        Assert.Equal(0, queue.Requeues("a"));
        queue.AddRateLimited("a");
        time.Advance(TimeSpan.FromMilliseconds(10));
        await Eventually.WaitAsync(() => queue.Count == 1, "key back after the base delay once forgotten");
    }

    [Fact]
    public async Task Retries_of_all_keys_together_are_held_to_the_token_bucket()
    {
        var time = new FakeTimeProvider();
        using var queue = new WorkQueue<string>(time, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(1), retriesPerSecond: 2, retryBurst: 2);

        // Two tokens: a and b wait only their own backoff; c and d wait for the bucket, half a second apart.
        foreach (string key in new[] { "a", "b", "c", "d" })
        {
            queue.AddRateLimited(key);
        }

        time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.WaitAsync(() => queue.Count == 2, "a and b back after their backoff");
        time.Advance(TimeSpan.FromMilliseconds(498));
        Assert.Equal(2, queue.Count);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await Eventually.WaitAsync(() => queue.Count == 3, "c back once the bucket has a token again");
        time.Advance(TimeSpan.FromMilliseconds(500));
        await Eventually.WaitAsync(() => queue.Count == 4, "d back half a second later");
        var handed = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            handed.Add((await queue.GetAsync()).Item);
        }

        Assert.Equal(["a", "b", "c", "d"], handed);
    }

    [Fact]
    public async Task ShutDown_drains_what_is_queued_then_releases_waiting_workers()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("a");
        queue.ShutDown();
        queue.Add("b");

        Assert.Equal((true, "a"), await queue.GetAsync());
        var (ok, _) = await queue.GetAsync();
        Assert.False(ok);
    }

    [Fact]
    public async Task A_worker_waiting_on_an_empty_queue_is_released_by_ShutDown()
    {
        using var queue = new WorkQueue<string>();
        var waiting = queue.GetAsync();
        Assert.False(waiting.IsCompleted);

        queue.ShutDown();

        var (ok, _) = await waiting;
        Assert.False(ok);
    }
}
