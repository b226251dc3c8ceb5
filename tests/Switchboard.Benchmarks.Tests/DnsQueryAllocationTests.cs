using System.Reflection;
using BenchmarkDotNet.Attributes;
using Switchboard.Benchmarks.Dns;

namespace Switchboard.Benchmarks.Tests;

/// <summary>
/// The DNS hot path allocates nothing per query: every <see cref="QueryHandlerBenchmarks"/> case, with the benchmark's
/// own zone of 10,000 services, is run many times on one thread and its managed allocations counted exactly.
/// BenchmarkDotNet's Allocated column shows the same figure by hand; this makes a regression fail CI instead.
/// </summary>
public class DnsQueryAllocationTests
{
    private const int Queries = 10_000;

    private const int Rounds = 5;

    public static TheoryData<string> Cases()
    {
        var cases = new TheoryData<string>();
        foreach (MethodInfo method in BenchmarkMethods())
        {
            cases.Add(method.Name);
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_query_allocates_nothing(string benchmark)
    {
        var benchmarks = new QueryHandlerBenchmarks();
        benchmarks.Setup();
        var query = (Func<int>)Delegate.CreateDelegate(typeof(Func<int>), benchmarks, benchmark);

        // Warm up first: the first calls fill lazily built caches and may be jitted at a lower tier.
        for (int i = 0; i < Queries; i++)
        {
            Assert.True(query() > 0, $"{benchmark} wrote no answer");
        }

        // A query that allocates does so in every round; the runtime's own one-off work on this thread (a method's tier-up
        // arriving late on a loaded machine) does not repeat. So the claim holds when some round allocates nothing.
        var rounds = new List<long>();
        for (int round = 0; round < Rounds && (rounds.Count == 0 || rounds[^1] > 0); round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            int answered = 0;
            for (int i = 0; i < Queries; i++)
            {
                answered += query() > 0 ? 1 : 0;
            }

            rounds.Add(GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.Equal(Queries, answered);
        }

        Assert.True(rounds[^1] == 0, $"{benchmark} allocated in each of {rounds.Count} rounds of {Queries} queries: {string.Join(", ", rounds)} B (at least {(double)rounds.Min() / Queries:F1} B per query)");
    }

    private static IEnumerable<MethodInfo> BenchmarkMethods() =>
        typeof(QueryHandlerBenchmarks).GetMethods().Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null);
}
