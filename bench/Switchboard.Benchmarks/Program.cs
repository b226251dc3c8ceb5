using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

// A short job keeps a run within a couple of minutes on the shared 2-core box; allocations are exact regardless.
IConfig config = DefaultConfig.Instance.AddJob(Job.ShortRun);
BenchmarkSwitcher.FromAssembly(typeof(Switchboard.Benchmarks.Dns.QueryHandlerBenchmarks).Assembly).Run(args, config);
