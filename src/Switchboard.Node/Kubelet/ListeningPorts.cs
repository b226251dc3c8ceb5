using System.Globalization;

namespace Switchboard.Node.Kubelet;

/// <summary>
/// Whether anything listens on a TCP port in a process's network namespace, read from its <c>/proc/PID/net/tcp</c> and
/// <c>tcp6</c> tables. A readiness probe retried while a server starts asks this first: where nothing listens, a dial is
/// refused for certain, and the table costs a read where the dial costs a socket, a refusal and its exception.
/// </summary>
internal static class ListeningPorts
{
    /// <summary>TCP_LISTEN in the tables' <c>st</c> column.</summary>
    private const string Listen = "0A";

    /// <summary>True when a socket listens on <paramref name="port"/> in <paramref name="pid"/>'s namespace, or when the tables cannot be read (the caller then dials to find out).</summary>
    public static bool Any(int pid, int port)
    {
        string suffix = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
        bool read = false;
        foreach (string table in (string[])["tcp", "tcp6"])
        {
            try
            {
                // Lines: "sl local_address rem_address st ...", addresses as hex ADDR:PORT.
                foreach (string line in File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/net/{table}").Skip(1))
                {
                    var fields = line.Split(' ', 5, StringSplitOptions.RemoveEmptyEntries);
                    if (fields.Length > 3 && fields[3] == Listen && fields[1].EndsWith(suffix, StringComparison.Ordinal))
                    {
                        return true;
                    }
                }

                read = true;
            }
            catch (IOException)
            {
                // No tcp6 where IPv6 is off; no tables at all once the process is gone.
            }
        }

        return !read;
    }
}
