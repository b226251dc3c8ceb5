using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Switchboard.Kube.Hosting;
using Switchboard.Testing;

namespace Switchboard.Kube.Tests.Hosting;

/// <summary>Alone in the test process: the trimmer judges quiet by the allocations of the whole process.</summary>
[CollectionDefinition(nameof(IdleMemoryTrimmerTests), DisableParallelization = true)]
public sealed class IdleMemoryTrimmerCollection;

[Collection(nameof(IdleMemoryTrimmerTests))]
public sealed class IdleMemoryTrimmerTests
{
    private const long Burst = 96L * 1024 * 1024;

    [Fact]
    public async Task After_a_burst_the_first_quiet_look_gives_the_freed_heap_back_once_per_least_interval()
    {
        var time = new FakeTimeProvider();
        var trimmer = new IdleMemoryTrimmer(NullLogger<IdleMemoryTrimmer>.Instance, time, burstBytes: Burst / 2);
        await Eventually.WaitAsync(trimmer.Look, "the start-up's trim");
        long committedWithBurst = Allocate();
        int fullCollections = GC.CollectionCount(GC.MaxGeneration);

        // The burst's own period is not quiet; the first quiet one trims.
        Assert.False(trimmer.Look());
        await Eventually.WaitAsync(trimmer.Look, "a look that trims once the process is quiet");

        Assert.True(GC.CollectionCount(GC.MaxGeneration) > fullCollections);
        long committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
        Assert.True(committed < committedWithBurst - (Burst / 2), $"committed {committed} bytes after the trim, {committedWithBurst} with the burst");
        Assert.False(trimmer.Look());

        // Another burst right after waits for the least interval between trims.
        Allocate();
        Assert.False(trimmer.Look());
        Assert.False(trimmer.Look());
        time.Advance(IdleMemoryTrimmer.MinInterval);
        await Eventually.WaitAsync(trimmer.Look, "a trim once the least interval has passed");
    }

    [Fact]
    public async Task The_start_up_is_a_burst_whatever_its_size_so_the_first_quiet_look_trims()
    {
        var time = new FakeTimeProvider();
        var trimmer = new IdleMemoryTrimmer(NullLogger<IdleMemoryTrimmer>.Instance, time, burstBytes: long.MaxValue);
        int fullCollections = GC.CollectionCount(GC.MaxGeneration);

        await Eventually.WaitAsync(trimmer.Look, "a trim at the first quiet look after the start");

        Assert.True(GC.CollectionCount(GC.MaxGeneration) > fullCollections);
        Assert.False(trimmer.Look());
    }

    [Fact]
    public async Task The_start_up_trim_does_not_hold_back_the_first_burst()
    {
        var time = new FakeTimeProvider();
        var trimmer = new IdleMemoryTrimmer(NullLogger<IdleMemoryTrimmer>.Instance, time, burstBytes: Burst / 2);
        await Eventually.WaitAsync(trimmer.Look, "the start-up's trim");

        Allocate();
        await Eventually.WaitAsync(trimmer.Look, "the burst's trim, with no least interval since the start-up's");
    }

    /// <summary>A burst: 1 MB arrays, all alive at once, then garbage; returns the GC heap committed while they lived.</summary>
    private static long Allocate()
    {
        var held = new List<byte[]>();
        for (long allocated = 0; allocated < Burst; allocated += 1024 * 1024)
        {
            var chunk = new byte[1024 * 1024];
            Array.Fill(chunk, (byte)1);
            held.Add(chunk);
        }

        // A collection while they live makes the GC's figures count them.
        GC.Collect();
        long committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
        GC.KeepAlive(held);
        return committed;
    }
}
