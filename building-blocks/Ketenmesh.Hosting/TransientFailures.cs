using System.Data.Common;
using Grpc.Core;

namespace Ketenmesh.Hosting;

/// <summary>
/// A database that is briefly out of reach is not a bug in the call: UNAVAILABLE tells the partner's
/// system to retry with backoff, where UNKNOWN would leave it guessing.
/// </summary>
public static class TransientFailures
{
    public static Status? ToStatus(Exception exception)
    {
        // EF Core wraps the provider's exception once its retries are spent; look through the chain.
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is DbException { IsTransient: true } or TimeoutException)
            {
                return new Status(StatusCode.Unavailable,
                    "The service's database is briefly unavailable; retry with backoff (a retried submission with the same client_request_id is stored once).");
            }
        }

        return null;
    }
}
