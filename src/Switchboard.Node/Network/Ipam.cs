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
    private readonly List<IPAddress> _addresses;
    private readonly Lock _lock = new();

    // The files' contents, read once: this agent is their only writer while it runs. Reading every file on each
    // allocation, under the lock, made a burst of N pods cost N^2 file reads, one pod at a time.
    private readonly Dictionary<string, IPAddress> _byOwner = new(StringComparer.Ordinal);
    private readonly HashSet<IPAddress> _taken = [];
    private int _next;

    public Ipam(string directory, PodCidr range)
    {
        _range = range;
        _addresses = [.. range.PodAddresses];
        _dir = Path.Combine(directory, range.Text.Replace('/', '_'));
        Directory.CreateDirectory(_dir);
        foreach (string path in Directory.EnumerateFiles(_dir))
        {
            if (IPAddress.TryParse(Path.GetFileName(path), out var address))
            {
                _taken.Add(address);
                _byOwner[File.ReadAllText(path).Trim()] = address;
            }
        }

        string last = Path.Combine(_dir, LastReserved);
        _next = File.Exists(last) && IPAddress.TryParse(File.ReadAllText(last).Trim(), out var reserved) ? _addresses.IndexOf(reserved) + 1 : 0;
    }

    /// <summary>The address held by <paramref name="owner"/>, or a new one for it.</summary>
    public IPAddress Allocate(string owner)
    {
        lock (_lock)
        {
            if (_byOwner.TryGetValue(owner, out var held))
            {
                return held;
            }

            for (int i = 0; i < _addresses.Count; i++)
            {
                int index = (_next + i) % _addresses.Count;
                var candidate = _addresses[index];
                if (_taken.Contains(candidate))
                {
                    continue;
                }

                try
                {
                    using (var file = new FileStream(Path.Combine(_dir, candidate.ToString()), FileMode.CreateNew, FileAccess.Write))
                    using (var writer = new StreamWriter(file))
                    {
                        writer.Write(owner);
                    }
                }
                catch (IOException) when (File.Exists(Path.Combine(_dir, candidate.ToString())))
                {
                    // Taken behind this agent's back: leave it to its holder.
                    _taken.Add(candidate);
                    continue;
                }

                _taken.Add(candidate);
                File.WriteAllText(Path.Combine(_dir, LastReserved), candidate.ToString());
                _next = (index + 1) % _addresses.Count;
                _byOwner[owner] = candidate;
                return candidate;
            }

            throw new InvalidOperationException($"no free address in pod CIDR {_range}");
        }
    }

    /// <summary>The address <paramref name="owner"/> holds, if any.</summary>
    public IPAddress? Find(string owner)
    {
        lock (_lock)
        {
            return _byOwner.GetValueOrDefault(owner);
        }
    }

    /// <summary>Frees the address <paramref name="owner"/> holds.</summary>
    public void Release(string owner)
    {
        lock (_lock)
        {
            if (_byOwner.Remove(owner, out var address))
            {
                File.Delete(Path.Combine(_dir, address.ToString()));
                _taken.Remove(address);
            }
        }
    }
}
