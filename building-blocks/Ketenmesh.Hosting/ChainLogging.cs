using Microsoft.Extensions.Logging;

namespace Ketenmesh.Hosting;

/// <summary>How every component logs: one line per entry on the console, and none of what would carry personal data or flood the log.</summary>
public static class ChainLogging
{
    public static ILoggingBuilder AddChainLogging(this ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        // Request logging would print partner metadata, officers' form fields and tokens in query strings; the audit log is
        // the place for who-called-what.
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // grpc-dotnet logs every non-OK status at Information; the audit log and the call metrics say that.
        logging.AddFilter("Grpc", LogLevel.Warning);
        logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        // YARP logs every proxied request at Information; the gateway's own warnings say what matters.
        logging.AddFilter("Yarp", LogLevel.Warning);
        // SQL text may carry personal data in literals, and polls (policy, outbox, watches) would flood the log.
        logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);
        // A failed command is logged at Error with its whole SQL (one huge IN list made a 111 MB line); the failure
        // itself reaches the call, whose status says it.
        logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.None);
        // Every failed probe every 2 s would repeat itself; ReadinessPublisher logs each change once, with its reason.
        logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.Critical);
        return logging;
    }
}
