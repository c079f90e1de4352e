using Grpc.Core;
using Grpc.Reflection;
using V1 = Grpc.Reflection.V1;
using V1Alpha = Grpc.Reflection.V1Alpha;

namespace Ketenmesh.Gateway.Discovery;

/// <summary>
/// Server reflection at the gateway (Grpc.Reflection's implementation) describes only what the caller
/// may call: the services its grants open, and the gateway's own audit trail. A caller without a valid
/// token learns nothing.
/// </summary>
internal sealed class GatewayReflection(VisibleServices visible) : V1.ServerReflection.ServerReflectionBase
{
    public override async Task ServerReflectionInfo(IAsyncStreamReader<V1.ServerReflectionRequest> requestStream, IServerStreamWriter<V1.ServerReflectionResponse> responseStream, ServerCallContext context) =>
        await new ReflectionV1ServiceImpl(await visible.ForAsync(context)).ServerReflectionInfo(requestStream, responseStream, context);
}

/// <summary>The same for reflection v1alpha, which older clients still ask.</summary>
internal sealed class GatewayReflectionAlpha(VisibleServices visible) : V1Alpha.ServerReflection.ServerReflectionBase
{
    public override async Task ServerReflectionInfo(IAsyncStreamReader<V1Alpha.ServerReflectionRequest> requestStream, IServerStreamWriter<V1Alpha.ServerReflectionResponse> responseStream, ServerCallContext context) =>
        await new ReflectionServiceImpl(await visible.ForAsync(context)).ServerReflectionInfo(requestStream, responseStream, context);
}
