using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Ketenmesh.Grpc.Client;

public enum MethodType
{
    Unary,
    ClientStreaming,
    ServerStreaming,
    DuplexStreaming,
}

/// <summary>A callable method, taken from the generated descriptor so names and types never drift from the contract.</summary>
public sealed class Method<TRequest, TResponse>
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private Method(string fullName, MethodType type, MessageParser<TResponse> responseParser)
    {
        FullName = fullName;
        Type = type;
        ResponseParser = responseParser;
    }

    /// <summary>The HTTP/2 path, <c>/{package}.{Service}/{Method}</c>.</summary>
    public string FullName { get; }

    public MethodType Type { get; }

    public MessageParser<TResponse> ResponseParser { get; }

    /// <summary>A method known only by its path (e.g. a gateway forwarding, or a probe for what a server lacks).</summary>
    public static Method<TRequest, TResponse> ForPath(string fullName, MethodType type = MethodType.Unary)
    {
        var parser = (MessageParser<TResponse>)typeof(TResponse).GetProperty("Parser")!.GetValue(null)!;
        return new Method<TRequest, TResponse>(fullName, type, parser);
    }

    public static Method<TRequest, TResponse> From(MethodDescriptor method)
    {
        if (method.InputType.ClrType != typeof(TRequest) || method.OutputType.ClrType != typeof(TResponse))
        {
            throw new ArgumentException(
                $"{method.FullName} takes {method.InputType.ClrType.Name} and returns {method.OutputType.ClrType.Name}, not {typeof(TRequest).Name}/{typeof(TResponse).Name}.",
                nameof(method));
        }
        var type = (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (true, false) => MethodType.ClientStreaming,
            (false, true) => MethodType.ServerStreaming,
            (true, true) => MethodType.DuplexStreaming,
        };
        return new Method<TRequest, TResponse>($"/{method.Service.FullName}/{method.Name}", type, (MessageParser<TResponse>)method.OutputType.Parser);
    }
}

/// <summary>Per-call settings: metadata, deadline, cancellation.</summary>
public readonly record struct CallOptions(Metadata? Headers = null, DateTime? Deadline = null, CancellationToken CancellationToken = default);
