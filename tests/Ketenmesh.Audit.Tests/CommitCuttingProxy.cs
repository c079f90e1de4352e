using System.Net;
using System.Net.Sockets;
using Ketenmesh.Testing;
using Npgsql;

namespace Ketenmesh.Audit.Tests;

/// <summary>
/// A TCP hop between the log and PostgreSQL that, once armed, passes the next COMMIT on to the server
/// and then cuts that connection instead of passing the server's answer back: the commit has landed,
/// and the writer is told it failed. What a network drop at the worst moment does.
/// </summary>
internal sealed class CommitCuttingProxy : IAsyncDisposable
{
    // Npgsql commits with a simple-protocol Query message: 'Q', its length (4 + 7), "COMMIT\0".
    private static readonly byte[] CommitMessage = [(byte)'Q', 0, 0, 0, 11, .. "COMMIT\0"u8];

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Socket> _sockets = [];
    private readonly string _serverHost;
    private readonly int _serverPort;
    private readonly Task _accepting;
    private int _armed;
    private int _cuts;

    public CommitCuttingProxy()
    {
        var server = new NpgsqlConnectionStringBuilder(TestEnvironment.Postgres);
        _serverHost = server.Host ?? "127.0.0.1";
        _serverPort = server.Port;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Connections cut so far, each right after the server answered a COMMIT.</summary>
    public int Cuts => Volatile.Read(ref _cuts);

    /// <summary>The same database, reached through this hop (in plain text, so the COMMIT can be seen).</summary>
    public string Route(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString)
    {
        Host = "127.0.0.1",
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port,
        SslMode = SslMode.Disable,
    }.ConnectionString;

    public void CutAfterNextCommit() => Volatile.Write(ref _armed, 1);

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            var server = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await server.ConnectAsync(_serverHost, _serverPort, _stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }
            lock (_sockets)
            {
                _sockets.Add(client);
                _sockets.Add(server);
            }
            var connection = new Connection(client, server);
            _ = PumpAsync(connection, fromClient: true);
            _ = PumpAsync(connection, fromClient: false);
        }
    }

    private async Task PumpAsync(Connection connection, bool fromClient)
    {
        var (from, to) = fromClient ? (connection.Client, connection.Server) : (connection.Server, connection.Client);
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stopping.Token);
                if (read == 0)
                {
                    break;
                }
                if (fromClient && buffer.AsSpan(0, read).IndexOf(CommitMessage) >= 0 && Interlocked.Exchange(ref _armed, 0) == 1)
                {
                    // Set before the COMMIT goes out, so its answer cannot slip through.
                    connection.Cutting = true;
                }
                if (!fromClient && connection.Cutting)
                {
                    // The server answered the COMMIT: it is durable. The writer never hears so.
                    Interlocked.Increment(ref _cuts);
                    break;
                }
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stopping.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        connection.Close();
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _listener.Stop();
        await _accepting;
        lock (_sockets)
        {
            _sockets.ForEach(s => s.Dispose());
        }
        _stopping.Dispose();
    }

    private sealed class Connection(Socket client, Socket server)
    {
        public Socket Client { get; } = client;

        public Socket Server { get; } = server;

        public volatile bool Cutting;

        public void Close()
        {
            Client.Dispose();
            Server.Dispose();
        }
    }
}
