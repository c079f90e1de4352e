using System.Net;
using System.Net.Sockets;

namespace Ketenmesh.Gateway.Tests.Support;

static class FreePorts
{
    /// <summary>A loopback port free right now; components that must know each other's address need it up front.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
