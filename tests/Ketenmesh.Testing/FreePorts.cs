using System.Net;
using System.Net.Sockets;

namespace Ketenmesh.Testing;

public static class FreePorts
{
    // Below Linux's ephemeral range (32768–60999): a port the OS hands out for port 0 is also what any process's next
    // outgoing connection may take as its source port, so a component stopped and started again on it (a restart test)
    // could find it taken. Ports here are only ever bound on purpose.
    private const int First = 20_000;
    private const int Last = 32_000;

    private static readonly HashSet<int> HandedOut = [];

    /// <summary>A loopback port free right now, outside the ephemeral range; components that must know each other's address need it up front.</summary>
    public static int Next()
    {
        for (var attempt = 0; attempt < 1_000; attempt++)
        {
            var port = Random.Shared.Next(First, Last);
            lock (HandedOut)
            {
                // Never twice in one test process: two components on one port would clash.
                if (HandedOut.Contains(port))
                {
                    continue;
                }
            }
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
            }
            catch (SocketException)
            {
                continue;
            }
            lock (HandedOut)
            {
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }
        throw new InvalidOperationException($"No free loopback port between {First} and {Last} after 1,000 tries.");
    }
}
