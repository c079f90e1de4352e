using System.Collections.Concurrent;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Ketenmesh.Testing.V1;
using Status = Grpc.Core.Status;

namespace Ketenmesh.Grpc.Tests.Support;

/// <summary>Which probe calls ran and whether they saw their cancellation.</summary>
public sealed class ProbeRegistry
{
    public ConcurrentDictionary<string, bool> Probes { get; } = new();
}

/// <summary>Our implementation of the interop test service, with the same semantics as the python and node peers.</summary>
public sealed class InteropTestService(ProbeRegistry probes) : Ketenmesh.Testing.V1.InteropTestService.InteropTestServiceBase
{
    public override Task<Empty> Empty(Empty request, ServerCallContext context) => Task.FromResult(new Empty());

    public override async Task<EchoResponse> Echo(EchoRequest request, ServerCallContext context)
    {
        if (request.ProbeId.Length > 0)
        {
            probes.Probes[request.ProbeId] = false;
        }
        if (request.DelayMs > 0)
        {
            try
            {
                await Task.Delay(request.DelayMs, context.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                if (request.ProbeId.Length > 0)
                {
                    probes.Probes[request.ProbeId] = true;
                }
                throw;
            }
        }
        if (request.EchoMetadata)
        {
            var echoed = new Metadata();
            foreach (var entry in context.RequestHeaders.Where(e => e.Key.StartsWith("x-echo-", StringComparison.Ordinal)))
            {
                echoed.Add(entry);
                context.ResponseTrailers.Add(entry);
            }
            await context.WriteResponseHeadersAsync(echoed);
        }
        if (request.Status is { } status)
        {
            if (request.RichError)
            {
                throw new Google.Rpc.Status
                {
                    Code = status.Code,
                    Message = status.Message,
                    Details =
                    {
                        Any.Pack(new BadRequest
                        {
                            FieldViolations = { new BadRequest.Types.FieldViolation { Field = "observed_on", Description = "must not be in the future" } },
                        }),
                    },
                }.ToRpcException();
            }
            throw new RpcException(new Status((StatusCode)status.Code, status.Message));
        }
        return new EchoResponse
        {
            Payload = request.ResponseSize > 0 ? ByteString.CopyFrom(new byte[request.ResponseSize]) : request.Payload,
            RequestEncoding = context.RequestHeaders.GetValue(TestServer.ObservedEncodingHeader) ?? string.Empty,
        };
    }

    public override async Task Count(CountRequest request, IServerStreamWriter<StreamItem> responseStream, ServerCallContext context)
    {
        var payload = ByteString.CopyFrom(Enumerable.Repeat((byte)'a', request.Size).ToArray());
        for (var i = 0; i < request.Count; i++)
        {
            if (i > 0 && request.IntervalMs > 0)
            {
                await Task.Delay(request.IntervalMs, context.CancellationToken);
            }
            await responseStream.WriteAsync(new StreamItem { Index = i, Payload = payload });
        }
        if (request.FinalStatus is { } status)
        {
            throw new RpcException(new Status((StatusCode)status.Code, status.Message));
        }
    }

    public override async Task<CollectResponse> Collect(IAsyncStreamReader<StreamItem> requestStream, ServerCallContext context)
    {
        var response = new CollectResponse();
        await foreach (var item in requestStream.ReadAllAsync(context.CancellationToken))
        {
            response.Count++;
            response.TotalBytes += item.Payload.Length;
        }
        return response;
    }

    public override async Task Converse(IAsyncStreamReader<StreamItem> requestStream, IServerStreamWriter<StreamItem> responseStream, ServerCallContext context)
    {
        await foreach (var item in requestStream.ReadAllAsync(context.CancellationToken))
        {
            await responseStream.WriteAsync(item);
        }
    }

    public override Task<WasCancelledResponse> WasCancelled(WasCancelledRequest request, ServerCallContext context) =>
        Task.FromResult(probes.Probes.TryGetValue(request.ProbeId, out var cancelled)
            ? new WasCancelledResponse { Seen = true, Cancelled = cancelled }
            : new WasCancelledResponse());
}
