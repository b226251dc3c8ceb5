using System.Globalization;
using k8s.Models;
using Switchboard.Kube.Pods;

namespace Switchboard.Node.Resources;

/// <summary>
/// The node's cgroups, laid out as kubelet's (<c>kubepods[/burstable|/besteffort]/pod&lt;uid&gt;/&lt;container&gt;</c>) under a
/// parent of our own, <c>switchboard/&lt;cluster&gt;/&lt;node&gt;</c>, so nothing else on the machine is touched. cgroup v2 where
/// the memory and cpu controllers are delegated to its hierarchy, else the v1 memory, cpu and cpuacct hierarchies.
/// </summary>
internal sealed class Cgroups
{
    private const string Pods = "kubepods";
    private static readonly string[] QosParents = [Pods, Pods + "/burstable", Pods + "/besteffort"];
    private readonly string _memory;
    private readonly string _cpu;
    private readonly string _cpuacct;
    private readonly string _base;

    private Cgroups(CgroupVersion version, string memory, string cpu, string cpuacct, string relativeBase)
    {
        Version = version;
        _memory = memory;
        _cpu = cpu;
        _cpuacct = cpuacct;
        _base = relativeBase;
    }

    public CgroupVersion Version { get; }

    /// <summary>The mount points of the hierarchies in use, each once (v1's cpu and cpuacct may share one).</summary>
    private IEnumerable<string> Hierarchies => new[] { _memory, _cpu, _cpuacct }.Distinct(StringComparer.Ordinal);

    /// <summary>
    /// Finds the hierarchies under <paramref name="root"/> (normally /sys/fs/cgroup) and makes the node's parent in them;
    /// null with the reason when neither v2 nor v1 can be written.
    /// </summary>
    public static Cgroups? Open(string root, string cluster, string node, out string problem)
    {
        string relativeBase = $"switchboard/{cluster}/{node}";
        var problems = new List<string>();
        string unified = File.Exists(Path.Combine(root, "cgroup.controllers")) ? root : Path.Combine(root, "unified");
        string controllers = Path.Combine(unified, "cgroup.controllers");
        if (File.Exists(controllers))
        {
            var delegated = File.ReadAllText(controllers).Split(' ', '\n', StringSplitOptions.RemoveEmptyEntries);
            if (delegated.Contains("memory") && delegated.Contains("cpu"))
            {
                var v2 = new Cgroups(CgroupVersion.V2, unified, unified, unified, relativeBase);
                if (v2.TryCreateBase(problems))
                {
                    problem = "";
                    return v2;
                }
            }
            else
            {
                problems.Add($"cgroup v2 at {unified} has no memory and cpu controllers (it has: {string.Join(' ', delegated)})");
            }
        }

        string memory = Path.Combine(root, "memory");
        string? cpu = new[] { "cpu", "cpu,cpuacct" }.Select(d => Path.Combine(root, d)).FirstOrDefault(d => File.Exists(Path.Combine(d, "cpu.cfs_quota_us")));
        string? cpuacct = new[] { "cpuacct", "cpu,cpuacct", "cpu" }.Select(d => Path.Combine(root, d)).FirstOrDefault(d => File.Exists(Path.Combine(d, "cpuacct.usage")));
        if (File.Exists(Path.Combine(memory, "memory.limit_in_bytes")) && cpu is not null && cpuacct is not null)
        {
            var v1 = new Cgroups(CgroupVersion.V1, memory, cpu, cpuacct, relativeBase);
            if (v1.TryCreateBase(problems))
            {
                problem = "";
                return v1;
            }
        }
        else
        {
            problems.Add($"no cgroup v1 memory, cpu and cpuacct hierarchies under {root}");
        }

        problem = string.Join("; ", problems);
        return null;
    }

    /// <summary>Creates the pod's cgroup (idempotent) with the pod's limits: the sum of its containers'.</summary>
    public void CreatePod(V1Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        string relative = PodPath(pod);
        foreach (string hierarchy in Hierarchies)
        {
            MakeDirectories(hierarchy, relative);
        }

        Write(relative, ResourceLimits.OfPod(pod));
    }

    /// <summary>Creates a fresh cgroup for the <paramref name="restartCount"/>th run of <paramref name="container"/>, with its limits.</summary>
    public async Task<ContainerCgroup> CreateContainerAsync(V1Pod pod, V1Container container, int restartCount, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(container);
        CreatePod(pod);
        string relative = ContainerPath(pod, container.Name, restartCount);
        foreach (string hierarchy in Hierarchies)
        {
            // What an earlier agent left of this instance (it crashed before starting it) goes first.
            await CgroupFiles.RemoveTreeAsync(Path.Combine(hierarchy, relative), cancellationToken);
            Directory.CreateDirectory(Path.Combine(hierarchy, relative));
        }

        var limits = ResourceLimits.Of(container);
        Write(relative, limits);
        if (Version == CgroupVersion.V2 && limits.MemoryBytes is not null)
        {
            // An OOM kill takes the whole container, as kubelet asks of cgroup v2 runtimes.
            File.WriteAllText(Path.Combine(_memory, relative, "memory.oom.group"), "1");
        }

        return new ContainerCgroup([.. Hierarchies.Select(h => Path.Combine(h, relative))], Path.Combine(_memory, relative));
    }

    /// <summary>Kills whatever is left in the pod's cgroups and removes them.</summary>
    public async Task RemovePodAsync(string uid, CancellationToken cancellationToken)
    {
        foreach (string hierarchy in Hierarchies)
        {
            foreach (string parent in QosParents)
            {
                await CgroupFiles.RemoveTreeAsync(Path.Combine(hierarchy, _base, parent, "pod" + uid), cancellationToken);
            }
        }
    }

    /// <summary>The uids of the pods that have a cgroup on this node.</summary>
    public IEnumerable<string> PodUids() =>
        QosParents.Select(p => Path.Combine(_memory, _base, p)).Where(Directory.Exists)
            .SelectMany(Directory.EnumerateDirectories).Select(d => Path.GetFileName(d)!).Where(n => n.StartsWith("pod", StringComparison.Ordinal)).Select(n => n[3..]);

    /// <summary>Removes the node's whole tree, and the cluster's and Switchboard's parents once nothing else is in them.</summary>
    public async Task RemoveAllAsync(CancellationToken cancellationToken)
    {
        foreach (string hierarchy in Hierarchies)
        {
            await CgroupFiles.RemoveTreeAsync(Path.Combine(hierarchy, _base), cancellationToken);
            foreach (string parent in new[] { Path.GetDirectoryName(_base)!, "switchboard" })
            {
                try
                {
                    Directory.Delete(Path.Combine(hierarchy, parent));
                }
                catch (IOException)
                {
                    // Another node or cluster still has its cgroups there.
                }
            }
        }
    }

    /// <summary>The cpu time (ns) and memory working set (bytes) of a container instance, if its cgroup exists.</summary>
    public (long CpuNanos, long WorkingSetBytes)? ContainerUsage(V1Pod pod, string container, int restartCount) => Usage(ContainerPath(pod, container, restartCount));

    /// <summary>The cpu time (ns) and memory working set (bytes) of a pod, if its cgroup exists.</summary>
    public (long CpuNanos, long WorkingSetBytes)? PodUsage(V1Pod pod) => Usage(PodPath(pod));

    /// <summary>The cgroup of a container instance, relative to a hierarchy's mount.</summary>
    public string ContainerPath(V1Pod pod, string container, int restartCount) =>
        $"{PodPath(pod)}/{container}-{restartCount.ToString(CultureInfo.InvariantCulture)}";

    private string PodPath(V1Pod pod) => PodQos.Of(pod.Spec) switch
    {
        PodQos.Guaranteed => $"{_base}/{Pods}/pod{pod.Metadata.Uid}",
        var qos => $"{_base}/{Pods}/{qos.ToLowerInvariant()}/pod{pod.Metadata.Uid}",
    };

    private (long CpuNanos, long WorkingSetBytes)? Usage(string relative)
    {
        string memory = Path.Combine(_memory, relative);
        if (!Directory.Exists(memory))
        {
            return null;
        }

        long cpu;
        long usage;
        long inactive;
        if (Version == CgroupVersion.V2)
        {
            cpu = (CgroupFiles.Field(Path.Combine(_cpuacct, relative, "cpu.stat"), "usage_usec") ?? 0) * 1000;
            usage = CgroupFiles.Number(Path.Combine(memory, "memory.current")) ?? 0;
            inactive = CgroupFiles.Field(Path.Combine(memory, "memory.stat"), "inactive_file") ?? 0;
        }
        else
        {
            cpu = CgroupFiles.Number(Path.Combine(_cpuacct, relative, "cpuacct.usage")) ?? 0;
            usage = CgroupFiles.Number(Path.Combine(memory, "memory.usage_in_bytes")) ?? 0;
            inactive = CgroupFiles.Field(Path.Combine(memory, "memory.stat"), "total_inactive_file") ?? 0;
        }

        // cAdvisor's working set: usage less the page cache the kernel can drop at once.
        return (cpu, Math.Max(0, usage - inactive));
    }

    private bool TryCreateBase(List<string> problems)
    {
        try
        {
            foreach (string hierarchy in Hierarchies)
            {
                foreach (string parent in QosParents)
                {
                    MakeDirectories(hierarchy, $"{_base}/{parent}");
                }
            }

            WriteNodeAllocatableCpu();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"cgroup {(Version == CgroupVersion.V2 ? "v2" : "v1")} is not writable: {e.Message}");
            return false;
        }
    }

    /// <summary>
    /// Kubelet gives kubepods the node's allocatable cpu as its weight (shares of 1024 a cpu). Here kubepods sits under
    /// our parents, which the kernel weighs against each process outside them (the agent, the monitors and everything
    /// else on the machine, each 1024): those parents get the same weight, or all of the node's pods together would
    /// count as one process and start starved whenever a few others run.
    /// </summary>
    private void WriteNodeAllocatableCpu()
    {
        long shares = Environment.ProcessorCount * 1024L;
        string relative = "";
        foreach (string part in $"{_base}/{Pods}".Split('/'))
        {
            relative = relative.Length == 0 ? part : $"{relative}/{part}";
            string cpu = Path.Combine(_cpu, relative);
            if (Version == CgroupVersion.V2)
            {
                File.WriteAllText(Path.Combine(cpu, "cpu.weight"), new ResourceLimits(shares, null, null).CpuWeight.ToString(CultureInfo.InvariantCulture));
            }
            else
            {
                File.WriteAllText(Path.Combine(cpu, "cpu.shares"), shares.ToString(CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>mkdir -p inside a hierarchy; under v2 each parent first hands the memory and cpu controllers down to its children.</summary>
    private void MakeDirectories(string hierarchy, string relative)
    {
        string current = hierarchy;
        foreach (string part in relative.Split('/'))
        {
            if (Version == CgroupVersion.V2)
            {
                string control = Path.Combine(current, "cgroup.subtree_control");
                string[] enabled = File.ReadAllText(control).Split(' ', '\n', StringSplitOptions.RemoveEmptyEntries);
                if (!enabled.Contains("memory") || !enabled.Contains("cpu"))
                {
                    File.WriteAllText(control, "+memory +cpu");
                }
            }

            current = Path.Combine(current, part);
            Directory.CreateDirectory(current);
        }
    }

    private void Write(string relative, ResourceLimits limits)
    {
        string memory = Path.Combine(_memory, relative);
        string cpu = Path.Combine(_cpu, relative);
        if (Version == CgroupVersion.V2)
        {
            File.WriteAllText(Path.Combine(memory, "memory.max"), limits.MemoryBytes is { } bytes ? bytes.ToString(CultureInfo.InvariantCulture) : "max");
            File.WriteAllText(Path.Combine(cpu, "cpu.max"), $"{(limits.CpuQuotaMicros is { } quota ? quota.ToString(CultureInfo.InvariantCulture) : "max")} {ResourceLimits.CpuPeriodMicros}");
            File.WriteAllText(Path.Combine(cpu, "cpu.weight"), limits.CpuWeight.ToString(CultureInfo.InvariantCulture));
            return;
        }

        // v1 has no "unlimited" word: -1 lifts a limit, as kubelet writes it.
        File.WriteAllText(Path.Combine(memory, "memory.limit_in_bytes"), (limits.MemoryBytes ?? -1).ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(Path.Combine(cpu, "cpu.cfs_period_us"), ResourceLimits.CpuPeriodMicros.ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(Path.Combine(cpu, "cpu.cfs_quota_us"), (limits.CpuQuotaMicros ?? -1).ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(Path.Combine(cpu, "cpu.shares"), limits.CpuShares.ToString(CultureInfo.InvariantCulture));
    }
}
