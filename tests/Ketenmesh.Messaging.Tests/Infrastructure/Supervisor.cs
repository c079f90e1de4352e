using Ketenmesh.Messaging.Recovery;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Ketenmesh.Messaging.Tests.Infrastructure;

/// <summary>
/// Plays the part Kubernetes plays in production: runs one instance of a component and starts a
/// fresh one whenever the running one exits asking to be restarted (code 75).
/// </summary>
sealed class Supervisor : IAsyncDisposable
{
    readonly ITestOutputHelper _output;
    readonly TestVirtualHost _broker;
    readonly string _name;
    readonly Dictionary<string, string?> _settings;
    readonly Action<IServiceCollection, IConfiguration>[] _components;
    readonly CancellationTokenSource _stopping = new();
    Instance _current = null!;
    Task _watch = Task.CompletedTask;
    int _restarts;

    Supervisor(ITestOutputHelper output, TestVirtualHost broker, string name, Dictionary<string, string?> settings, Action<IServiceCollection, IConfiguration>[] components)
    {
        _output = output;
        _broker = broker;
        _name = name;
        _settings = settings;
        _components = components;
    }

    public IHost Host => Volatile.Read(ref _current).Host;

    public int Restarts => Volatile.Read(ref _restarts);

    public int? LastExitCode { get; private set; }

    public static async Task<Supervisor> StartAsync(
        ITestOutputHelper output, TestVirtualHost broker, string name, Dictionary<string, string?> settings, params Action<IServiceCollection, IConfiguration>[] components)
    {
        var supervisor = new Supervisor(output, broker, name, settings, components);
        supervisor._current = await supervisor.StartInstanceAsync();
        supervisor._watch = supervisor.WatchAsync();
        return supervisor;
    }

    /// <summary>Stops the running instance on purpose (a deployment, a node drain) and starts the next.</summary>
    public async Task RestartAsync()
    {
        var restarts = Restarts;
        Volatile.Read(ref _current).Exit.Request(0, "restarted by the test");
        if (!await TestHosts.WaitUntilAsync(() => Task.FromResult(Restarts > restarts), TimeSpan.FromSeconds(90)))
        {
            throw new TimeoutException($"{_name} did not come back after a restart");
        }
    }

    async Task<Instance> StartInstanceAsync()
    {
        var exit = new RecordingProcessExit();
        var name = $"{_name}#{_restarts + 1}";
        var settings = TestHosts.Merge(_settings, await _broker.AddUserAsync(name));
        var host = await TestHosts.StartAsync(_output, name, settings, [(services, _) => services.AddSingleton<IProcessExit>(exit), .. _components]);
        return new Instance(name, host, exit);
    }

    /// <summary>
    /// What the end of a process does for free: MassTransit 8.4 can leave a receive transport that
    /// was reconnecting when the bus stopped running, and it reconnects and consumes into a disposed
    /// container. A real process is gone by then; here its broker user goes, so no remnant can.
    /// </summary>
    async Task EndAsync(Instance instance)
    {
        await instance.Host.ShutdownAsync();
        var remnants = await _broker.RemoveUserAsync(instance.Name);
        _output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} supervisor: {instance.Name} ended; {remnants} connection(s) it left open closed");
    }

    async Task WatchAsync()
    {
        while (true)
        {
            var current = Volatile.Read(ref _current);
            var exitCode = await current.Exit.Requested.WaitAsync(_stopping.Token).ConfigureAwait(false);
            LastExitCode = exitCode;
            await EndAsync(current);
            _output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} supervisor: {_name} exited with code {exitCode}; starting a new instance");
            Interlocked.Increment(ref _restarts);
            Volatile.Write(ref _current, await StartInstanceAsync());
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await _watch;
        }
        catch (OperationCanceledException)
        {
        }

        await EndAsync(Volatile.Read(ref _current));
        _stopping.Dispose();
    }

    sealed record Instance(string Name, IHost Host, RecordingProcessExit Exit);
}
