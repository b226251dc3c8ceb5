using System.Net;

namespace Switchboard.Node.Network;

/// <summary>
/// Pod addresses persisted as the CNI host-local plugin keeps them: one file per address in use, created exclusively
/// (so two callers never get one address), holding the owner's id; <c>last_reserved_ip</c> makes allocation go round
/// the range, so a freed address is the last to be handed out again. State survives a restart of the agent.
/// </summary>
internal sealed class Ipam
{
    private const string LastReserved = "last_reserved_ip";
    private readonly string _dir;
    private readonly PodCidr _range;
    private readonly Lock _lock = new();

    public Ipam(string directory, PodCidr range)
    {
        _range = range;
        _dir = Path.Combine(directory, range.Text.Replace('/', '_'));
        Directory.CreateDirectory(_dir);
    }

    /// <summary>The address held by <paramref name="owner"/>, or a new one for it.</summary>
    public IPAddress Allocate(string owner)
    {
        lock (_lock)
        {
            if (Find(owner) is { } held)
            {
                return held;
            }

            var addresses = _range.PodAddresses.ToList();
            int start = File.Exists(Path.Combine(_dir, LastReserved)) && IPAddress.TryParse(File.ReadAllText(Path.Combine(_dir, LastReserved)).Trim(), out var last)
                ? addresses.IndexOf(last) + 1
                : 0;
            for (int i = 0; i < addresses.Count; i++)
            {
                var candidate = addresses[(start + i) % addresses.Count];
                try
                {
                    using (var file = new FileStream(Path.Combine(_dir, candidate.ToString()), FileMode.CreateNew, FileAccess.Write))
                    using (var writer = new StreamWriter(file))
                    {
                        writer.Write(owner);
                    }

                    File.WriteAllText(Path.Combine(_dir, LastReserved), candidate.ToString());
                    return candidate;
                }
                catch (IOException) when (File.Exists(Path.Combine(_dir, candidate.ToString())))
                {
                    // Taken: try the next one.
                }
            }

            throw new InvalidOperationException($"no free address in pod CIDR {_range}");
        }
    }

    /// <summary>The address <paramref name="owner"/> holds, if any.</summary>
    public IPAddress? Find(string owner) => Allocated().FirstOrDefault(a => a.Owner == owner).Address;

    /// <summary>Frees every address <paramref name="owner"/> holds.</summary>
    public void Release(string owner)
    {
        lock (_lock)
        {
            foreach (var (address, holder) in Allocated())
            {
                if (holder == owner)
                {
                    File.Delete(Path.Combine(_dir, address.ToString()));
                }
            }
        }
    }

    /// <summary>Every address in use and its owner.</summary>
    public IReadOnlyList<(IPAddress Address, string Owner)> Allocated()
    {
        var result = new List<(IPAddress, string)>();
        foreach (string path in Directory.EnumerateFiles(_dir))
        {
            if (IPAddress.TryParse(Path.GetFileName(path), out var address))
            {
                try
                {
                    result.Add((address, File.ReadAllText(path).Trim()));
                }
                catch (FileNotFoundException)
                {
                    // Released meanwhile.
                }
            }
        }

        return result;
    }
}
