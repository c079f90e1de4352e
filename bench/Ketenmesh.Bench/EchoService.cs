using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ketenmesh.Testing.V1;

namespace Ketenmesh.Bench;

/// <summary>
/// The interop contract with only Echo (and Empty) doing work: what is measured is the gRPC stack, not a
/// service. Every other method answers UNIMPLEMENTED, as the generated base does.
/// </summary>
public sealed class EchoService : InteropTestService.InteropTestServiceBase
{
    public override Task<EchoResponse> Echo(EchoRequest request, ServerCallContext context) =>
        Task.FromResult(new EchoResponse { Payload = request.Payload });

    public override Task<Empty> Empty(Empty request, ServerCallContext context) => Task.FromResult(new Empty());
}
