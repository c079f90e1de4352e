using Grpc.Core;
using Microsoft.EntityFrameworkCore;

namespace Ketenmesh.Hosting;

/// <summary>
/// Two writers changed the same record at once and this one lost (optimistic concurrency): nothing was
/// saved, and ABORTED tells the partner's system to read again and retry, as gRPC prescribes.
/// </summary>
public static class ConcurrencyConflicts
{
    public static Status? ToStatus(Exception exception) =>
        exception is DbUpdateConcurrencyException
            ? new Status(StatusCode.Aborted, "The record changed while your request was being applied; nothing was saved. Read it again and retry.")
            : null;
}
