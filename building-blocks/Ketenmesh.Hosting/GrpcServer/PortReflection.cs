using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Reflection;
using V1 = Grpc.Reflection.V1;
using V1Alpha = Grpc.Reflection.V1Alpha;

namespace Ketenmesh.Hosting.GrpcServer;

/// <summary>
/// Server reflection (v1) from Grpc.Reflection, listing only the services of the port it is asked on
/// (see <see cref="ServiceCatalog"/>); the descriptors come from the generated code.
/// </summary>
internal sealed class PortReflection(ServiceCatalog catalog) : V1.ServerReflection.ServerReflectionBase
{
    private readonly ConcurrentDictionary<int, ReflectionV1ServiceImpl> _byPort = new();

    public override Task ServerReflectionInfo(IAsyncStreamReader<V1.ServerReflectionRequest> requestStream, IServerStreamWriter<V1.ServerReflectionResponse> responseStream, ServerCallContext context) =>
        _byPort.GetOrAdd(context.GetHttpContext().Connection.LocalPort, port => new ReflectionV1ServiceImpl(catalog.On(port)))
            .ServerReflectionInfo(requestStream, responseStream, context);
}

/// <summary>The same for reflection v1alpha, which older clients (grpcurl, some IDEs) still ask.</summary>
internal sealed class PortReflectionAlpha(ServiceCatalog catalog) : V1Alpha.ServerReflection.ServerReflectionBase
{
    private readonly ConcurrentDictionary<int, ReflectionServiceImpl> _byPort = new();

    public override Task ServerReflectionInfo(IAsyncStreamReader<V1Alpha.ServerReflectionRequest> requestStream, IServerStreamWriter<V1Alpha.ServerReflectionResponse> responseStream, ServerCallContext context) =>
        _byPort.GetOrAdd(context.GetHttpContext().Connection.LocalPort, port => new ReflectionServiceImpl(catalog.On(port)))
            .ServerReflectionInfo(requestStream, responseStream, context);
}
