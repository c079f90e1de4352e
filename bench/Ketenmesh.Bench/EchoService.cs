using Google.Protobuf.WellKnownTypes;
using Ketenmesh.Grpc;
using Ketenmesh.Testing.V1;
using Status = Ketenmesh.Grpc.Status;
using StatusCode = Ketenmesh.Grpc.StatusCode;

namespace Ketenmesh.Bench;

/// <summary>The interop contract with only Echo doing work: what is measured is the gRPC layer, not a service.</summary>
public sealed class EchoService
{
    public Task<EchoResponse> Echo(EchoRequest request, ServerCallContext context) =>
        Task.FromResult(new EchoResponse { Payload = request.Payload });

    public Task<Empty> Empty(Empty request, ServerCallContext context) => Task.FromResult(new Empty());

    public Task Count(CountRequest request, IServerStreamWriter<StreamItem> responseStream, ServerCallContext context) => NotMeasured();

    public Task<CollectResponse> Collect(IAsyncStreamReader<StreamItem> requestStream, ServerCallContext context) => NotMeasured<CollectResponse>();

    public Task Converse(IAsyncStreamReader<StreamItem> requestStream, IServerStreamWriter<StreamItem> responseStream, ServerCallContext context) => NotMeasured();

    public Task<WasCancelledResponse> WasCancelled(WasCancelledRequest request, ServerCallContext context) => NotMeasured<WasCancelledResponse>();

    private static Task<T> NotMeasured<T>() => Task.FromException<T>(new RpcException(new Status(StatusCode.Unimplemented, "Not part of the benchmark.")));

    private static Task NotMeasured() => NotMeasured<object>();
}
