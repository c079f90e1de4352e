using System.Net;
using System.Net.Sockets;

namespace Ketenmesh.Testing;

public static class FreePorts
{
    /// <summary>A loopback port free right now; components that must know each other's address need it up front.</summary>
    private static readonly HashSet<int> HandedOut = [];

    public static int Next()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (HandedOut)
            {
                // The OS may offer a just-released port again; two components on one port would clash.
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }
    }
}
