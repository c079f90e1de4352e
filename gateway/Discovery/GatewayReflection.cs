using Google.Protobuf;
using Grpc.Reflection.V1;
using Ketenmesh.Grpc;
using Ketenmesh.Grpc.Reflection;

namespace Ketenmesh.Gateway.Discovery;

/// <summary>Server reflection at the gateway, per caller: only the services it may call (grpc.reflection.v1).</summary>
internal sealed class GatewayReflection(VisibleServices visible)
{
    public async Task ServerReflectionInfo(IAsyncStreamReader<ServerReflectionRequest> requestStream, IServerStreamWriter<ServerReflectionResponse> responseStream, ServerCallContext context)
    {
        var index = new DescriptorIndex(await visible.ForAsync(context));
        var sent = new HashSet<string>(StringComparer.Ordinal);
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            await responseStream.WriteAsync(ReflectionService.Answer(index, requestStream.Current, sent));
        }
    }
}

/// <summary>The same for tools that still speak grpc.reflection.v1alpha.</summary>
internal sealed class GatewayReflectionAlpha(VisibleServices visible)
{
    public async Task ServerReflectionInfo(
        IAsyncStreamReader<global::Grpc.Reflection.V1Alpha.ServerReflectionRequest> requestStream,
        IServerStreamWriter<global::Grpc.Reflection.V1Alpha.ServerReflectionResponse> responseStream,
        ServerCallContext context)
    {
        var index = new DescriptorIndex(await visible.ForAsync(context));
        var sent = new HashSet<string>(StringComparer.Ordinal);
        while (await requestStream.MoveNext(context.CancellationToken))
        {
            var request = ServerReflectionRequest.Parser.ParseFrom(requestStream.Current.ToByteString());
            var answer = ReflectionService.Answer(index, request, sent);
            await responseStream.WriteAsync(global::Grpc.Reflection.V1Alpha.ServerReflectionResponse.Parser.ParseFrom(answer.ToByteString()));
        }
    }
}
