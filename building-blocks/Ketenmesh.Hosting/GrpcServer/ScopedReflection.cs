using Grpc.Core;
using Grpc.Reflection;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;
using V1 = Grpc.Reflection.V1;
using V1Alpha = Grpc.Reflection.V1Alpha;

namespace Ketenmesh.Hosting.GrpcServer;

/// <summary>Which services a reflection call may describe: those of a port, or those a caller may call.</summary>
public interface IReflectionScope
{
    ValueTask<IReadOnlyList<ServiceDescriptor>> ServicesAsync(ServerCallContext context);
}

/// <summary>
/// Server reflection v1 from Grpc.Reflection, describing only the services <typeparamref name="TScope"/>
/// allows for the call at hand.
/// </summary>
public sealed class ScopedReflection<TScope>(TScope scope) : V1.ServerReflection.ServerReflectionBase
    where TScope : IReflectionScope
{
    public override async Task ServerReflectionInfo(IAsyncStreamReader<V1.ServerReflectionRequest> requestStream, IServerStreamWriter<V1.ServerReflectionResponse> responseStream, ServerCallContext context) =>
        await new ReflectionV1ServiceImpl(await scope.ServicesAsync(context)).ServerReflectionInfo(requestStream, responseStream, context);
}

/// <summary>The same for reflection v1alpha, which older clients (grpcurl, some IDEs) still ask.</summary>
public sealed class ScopedReflectionAlpha<TScope>(TScope scope) : V1Alpha.ServerReflection.ServerReflectionBase
    where TScope : IReflectionScope
{
    public override async Task ServerReflectionInfo(IAsyncStreamReader<V1Alpha.ServerReflectionRequest> requestStream, IServerStreamWriter<V1Alpha.ServerReflectionResponse> responseStream, ServerCallContext context) =>
        await new ReflectionServiceImpl(await scope.ServicesAsync(context)).ServerReflectionInfo(requestStream, responseStream, context);
}

/// <summary>The services of the port the call came in on (see <see cref="ServiceCatalog"/>).</summary>
internal sealed class PortScope(ServiceCatalog catalog) : IReflectionScope
{
    public ValueTask<IReadOnlyList<ServiceDescriptor>> ServicesAsync(ServerCallContext context) =>
        ValueTask.FromResult(catalog.On(context.GetHttpContext().Connection.LocalPort));
}
