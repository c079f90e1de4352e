using System.Reflection;
using Google.Protobuf.Reflection;
using Microsoft.Extensions.Logging;

namespace Ketenmesh.Grpc.Server;

/// <summary>
/// Binds a service class to a generated service descriptor by method name and shape, at startup:
/// a missing or mis-shaped method stops the host instead of failing a partner's call later.
/// </summary>
internal static class ServiceBinder
{
    public static IReadOnlyList<ServerMethodHandler> Bind(Type serviceType, ServiceDescriptor service, GrpcServerOptions options, ILogger logger, object? singleton)
    {
        var handlers = new List<ServerMethodHandler>();
        var problems = new List<string>();
        foreach (var method in service.Methods)
        {
            var input = method.InputType.ClrType;
            var output = method.OutputType.ClrType;
            var (handlerType, delegateType, expected) = Shape(method, serviceType, input, output);
            var candidate = serviceType.GetMethod(method.Name, BindingFlags.Public | BindingFlags.Instance, ExpectedParameters(method, input, output));
            if (candidate is null || candidate.ReturnType != expected)
            {
                problems.Add($"{method.Name}: expected public {Describe(method, input, output)}");
                continue;
            }
            var invoker = Delegate.CreateDelegate(delegateType, candidate);
            handlers.Add((ServerMethodHandler)Activator.CreateInstance(handlerType, method, options, logger, invoker, singleton)!);
        }
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(
                $"{serviceType.FullName} does not implement gRPC service {service.FullName}:{Environment.NewLine}  "
                + string.Join(Environment.NewLine + "  ", problems));
        }
        return handlers;
    }

    private static (Type Handler, Type Delegate, Type Returns) Shape(MethodDescriptor method, Type service, Type input, Type output)
    {
        Type[] args = [service, input, output];
        return (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => (typeof(UnaryHandler<,,>).MakeGenericType(args), typeof(UnaryMethod<,,>).MakeGenericType(args), typeof(Task<>).MakeGenericType(output)),
            (false, true) => (typeof(ServerStreamingHandler<,,>).MakeGenericType(args), typeof(ServerStreamingMethod<,,>).MakeGenericType(args), typeof(Task)),
            (true, false) => (typeof(ClientStreamingHandler<,,>).MakeGenericType(args), typeof(ClientStreamingMethod<,,>).MakeGenericType(args), typeof(Task<>).MakeGenericType(output)),
            (true, true) => (typeof(DuplexStreamingHandler<,,>).MakeGenericType(args), typeof(DuplexStreamingMethod<,,>).MakeGenericType(args), typeof(Task)),
        };
    }

    private static Type[] ExpectedParameters(MethodDescriptor method, Type input, Type output)
    {
        var reader = typeof(IAsyncStreamReader<>).MakeGenericType(input);
        var writer = typeof(IServerStreamWriter<>).MakeGenericType(output);
        return (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => [input, typeof(ServerCallContext)],
            (false, true) => [input, writer, typeof(ServerCallContext)],
            (true, false) => [reader, typeof(ServerCallContext)],
            (true, true) => [reader, writer, typeof(ServerCallContext)],
        };
    }

    private static string Describe(MethodDescriptor method, Type input, Type output) =>
        (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => $"Task<{output.Name}> {method.Name}({input.Name} request, ServerCallContext context)",
            (false, true) => $"Task {method.Name}({input.Name} request, IServerStreamWriter<{output.Name}> responseStream, ServerCallContext context)",
            (true, false) => $"Task<{output.Name}> {method.Name}(IAsyncStreamReader<{input.Name}> requestStream, ServerCallContext context)",
            (true, true) => $"Task {method.Name}(IAsyncStreamReader<{input.Name}> requestStream, IServerStreamWriter<{output.Name}> responseStream, ServerCallContext context)",
        };
}
