using Microsoft.Extensions.Logging;

namespace Ketenmesh.Messaging.Tests.Infrastructure;

/// <summary>Routes host logs into the test's output, so a failing run shows what the bus and dispatcher saw.</summary>
sealed class TestOutputLoggerProvider(ITestOutputHelper output, string hostName) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new TestOutputLogger(output, hostName, categoryName);

    public void Dispose()
    {
    }

    sealed class TestOutputLogger(ITestOutputHelper output, string hostName, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= (category.StartsWith("MassTransit", StringComparison.Ordinal) && Environment.GetEnvironmentVariable("KETENMESH_TEST_BUS_DEBUG") == "1" ? LogLevel.Debug : LogLevel.Warning);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            try
            {
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} [{hostName}] {logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : " — " + (Environment.GetEnvironmentVariable("KETENMESH_TEST_BUS_DEBUG") == "1" ? exception.ToString() : exception.GetType().Name + ": " + exception.Message))}");
            }
            catch (InvalidOperationException)
            {
                // Background threads may log after the test has finished; the output is closed by then.
            }
        }
    }
}
