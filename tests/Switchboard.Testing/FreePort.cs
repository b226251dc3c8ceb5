using System.Net;
using System.Net.Sockets;

namespace Switchboard.Testing;

/// <summary>A TCP port on 127.0.0.1 that nothing listens on right now, never the same twice in one test run.</summary>
public static class FreePort
{
    // The kernel may hand a just-released port out again; a process that asks for three ports in a row
    // (API, DNS, metrics) must get three different ones.
    private static readonly HashSet<int> HandedOut = [];

    public static int Next()
    {
        lock (HandedOut)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                int port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
