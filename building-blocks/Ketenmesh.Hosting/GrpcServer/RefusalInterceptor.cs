using Grpc.Core;

namespace Ketenmesh.Hosting.GrpcServer;

/// <summary>
/// The one place an exception a service leaves uncaught becomes a status a caller can act on: domain
/// refusals, transient database or broker failures, and concurrency conflicts. Anything else is left to
/// grpc-dotnet, which answers UNKNOWN without the exception's text.
/// </summary>
internal sealed class RefusalInterceptor : AroundInterceptor
{
    private static readonly Func<Exception, RpcException?>[] Mappers =
    [
        DomainRefusals.ToRpcException,
        e => TransientFailures.ToStatus(e) is { } status ? new RpcException(status) : null,
        e => ConcurrencyConflicts.ToStatus(e) is { } status ? new RpcException(status) : null,
    ];

    protected override async Task<T> AroundAsync<T>(object? request, ServerCallContext context, Func<Task<T>> handler)
    {
        try
        {
            return await handler();
        }
        catch (Exception exception) when (exception is not RpcException && Map(exception) is { } mapped)
        {
            throw mapped;
        }
    }

    private static RpcException? Map(Exception exception)
    {
        foreach (var mapper in Mappers)
        {
            if (mapper(exception) is { } mapped)
            {
                return mapped;
            }
        }
        return null;
    }
}
