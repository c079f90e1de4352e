using System.Diagnostics;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Testing.V1;
using Xunit;
using InteropClient = Ketenmesh.Testing.V1.InteropTestService.InteropTestServiceClient;
using StatusCode = Grpc.Core.StatusCode;

namespace Ketenmesh.Grpc.Tests.Support;

/// <summary>
/// The interop scenarios. Every client (ours: Grpc.Net.Client, python's C core, grpc-js) reports what it observed as the
/// same JSON shape, and <see cref="Verify"/> holds every observation to the protocol.
/// </summary>
public static class Scenarios
{
    public const int FourMegabytes = 4 * 1024 * 1024;
    public const string UnicodeMessage = "Registratie van Zoë bestaat al — 登録済み ✓ 100%";
    public const string EchoText = "Ketenmesh keten 1.0";
    public static readonly byte[] EchoBinary = [0, 1, 2, 253, 254, 255];

    public static readonly string[] Names =
    [
        "empty", "large_unary", "too_large_unary", "server_streaming", "client_streaming", "bidi",
        "unicode_status", "rich_error", "unimplemented", "deadline", "cancel", "metadata", "gzip",
    ];

    public static TheoryData<string> All()
    {
        var data = new TheoryData<string>();
        foreach (var name in Names)
        {
            data.Add(name);
        }
        return data;
    }

    public static void Verify(string scenario, JsonObject o)
    {
        try
        {
            VerifyCore(scenario, o);
        }
        catch (Exception ex) when (ex is Xunit.Sdk.XunitException or NullReferenceException or InvalidOperationException)
        {
            throw new Xunit.Sdk.XunitException($"Observed {o.ToJsonString()}{Environment.NewLine}{ex.Message}");
        }
    }

    private static void VerifyCore(string scenario, JsonObject o)
    {
        var code = o["code"]?.GetValue<int>();
        switch (scenario)
        {
            case "empty":
                Assert.Equal(0, code);
                break;
            case "large_unary":
                Assert.Equal(0, code);
                Assert.Equal(FourMegabytes - 64, o["response_bytes"]!.GetValue<int>());
                break;
            case "too_large_unary":
                Assert.Equal((int)StatusCode.ResourceExhausted, code);
                break;
            case "server_streaming":
                Assert.Equal(0, code);
                Assert.Equal([0, 1, 2, 3, 4], Ints(o["indexes"]));
                Assert.All(Ints(o["sizes"]), size => Assert.Equal(16, size));
                break;
            case "client_streaming":
                Assert.Equal(0, code);
                Assert.Equal(7, o["count"]!.GetValue<int>());
                Assert.Equal(210, o["total_bytes"]!.GetValue<long>());
                break;
            case "bidi":
                Assert.Equal(0, code);
                Assert.Equal([0, 1, 2, 3], Ints(o["indexes"]));
                break;
            case "unicode_status":
                Assert.Equal((int)StatusCode.FailedPrecondition, code);
                Assert.Equal(UnicodeMessage, o["message"]!.GetValue<string>());
                break;
            case "rich_error":
                Assert.Equal((int)StatusCode.InvalidArgument, code);
                Assert.Equal("signal is invalid", o["message"]!.GetValue<string>());
                Assert.Equal((int)StatusCode.InvalidArgument, o["details_code"]!.GetValue<int>());
                var violation = Assert.Single(o["violations"]!.AsArray())!;
                Assert.Equal("observed_on", violation["field"]!.GetValue<string>());
                Assert.Equal("must not be in the future", violation["description"]!.GetValue<string>());
                break;
            case "unimplemented":
                Assert.Equal([12, 12], Ints(o["codes"]));
                break;
            case "deadline":
                // The peer gives up at the same deadline (grpc-timeout) and may reset the stream (RST_STREAM CANCEL) a
                // moment before the client's own deadline timer fires, which a loaded machine delays; grpc-dotnet then
                // reports CANCELLED. Either way the call ended at its deadline, not early and not at the 5 s answer.
                Assert.True(code == (int)StatusCode.DeadlineExceeded || code == (int)StatusCode.Cancelled && o["elapsed_ms"]!.GetValue<double>() >= 300,
                    $"expected DEADLINE_EXCEEDED (or CANCELLED by the peer's reset once the deadline had passed), got {code}");
                Assert.InRange(o["elapsed_ms"]!.GetValue<double>(), 250, 4000);
                break;
            case "cancel":
                Assert.Equal((int)StatusCode.Cancelled, code);
                Assert.True(o["probe_seen"]!.GetValue<bool>(), "the server never saw the call");
                Assert.True(o["probe_cancelled"]!.GetValue<bool>(), "the server's handler did not see the cancellation");
                break;
            case "metadata":
                Assert.Equal(0, code);
                foreach (var part in new[] { "headers", "trailers" })
                {
                    Assert.Equal(EchoText, o[part]!["x-echo-text"]!.GetValue<string>());
                    Assert.Equal(EchoBinary, Convert.FromBase64String(o[part]!["x-echo-bin"]!.GetValue<string>()));
                }
                break;
            case "gzip":
                Assert.Equal(0, code);
                Assert.Equal(100_000, o["response_bytes"]!.GetValue<int>());
                Assert.True(o["payload_matches"]!.GetValue<bool>());
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(scenario), scenario, "unknown scenario");
        }
    }

    /// <summary>Runs a scenario with our own client (Grpc.Net.Client) against <paramref name="address"/>.</summary>
    public static async Task<JsonObject> RunWithOurClientAsync(string scenario, Uri address)
    {
        using var channel = GrpcChannel.ForAddress(address);
        var client = channel.Interop();
        var o = new JsonObject();
        try
        {
            await RunAsync(scenario, channel, client, o);
            o["code"] ??= 0;
        }
        catch (RpcException ex)
        {
            o["code"] = (int)ex.StatusCode;
            o["message"] = ex.Status.Detail;
            if (ex.GetRpcStatus() is { } rich)
            {
                o["details_code"] = rich.Code;
                o["violations"] = new JsonArray(rich.GetDetail<BadRequest>()!.FieldViolations
                    .Select(v => (JsonNode)new JsonObject { ["field"] = v.Field, ["description"] = v.Description }).ToArray());
            }
        }
        return o;
    }

    private static async Task RunAsync(string scenario, GrpcChannel channel, InteropClient client, JsonObject o)
    {
        switch (scenario)
        {
            case "empty":
                await client.EmptyAsync(new Empty());
                break;
            case "large_unary":
                var large = await client.EchoAsync(new EchoRequest { Payload = Bytes(FourMegabytes - 64), ResponseSize = FourMegabytes - 64 });
                o["response_bytes"] = large.Payload.Length;
                break;
            case "too_large_unary":
                await client.EchoAsync(new EchoRequest { Payload = Bytes(FourMegabytes + 1) });
                break;
            case "server_streaming":
                using (var call = client.Count(new CountRequest { Count = 5, Size = 16 }))
                {
                    var indexes = new JsonArray();
                    var sizes = new JsonArray();
                    await foreach (var item in call.ResponseStream.ReadAllAsync())
                    {
                        indexes.Add(item.Index);
                        sizes.Add(item.Payload.Length);
                    }
                    o["indexes"] = indexes;
                    o["sizes"] = sizes;
                }
                break;
            case "client_streaming":
                using (var call = client.Collect())
                {
                    for (var i = 0; i < 7; i++)
                    {
                        await call.RequestStream.WriteAsync(new StreamItem { Index = i, Payload = Bytes(i * 10) });
                    }
                    await call.RequestStream.CompleteAsync();
                    var collected = await call;
                    o["count"] = collected.Count;
                    o["total_bytes"] = collected.TotalBytes;
                }
                break;
            case "bidi":
                using (var call = client.Converse())
                {
                    var indexes = new JsonArray();
                    for (var i = 0; i < 4; i++)
                    {
                        await call.RequestStream.WriteAsync(new StreamItem { Index = i, Payload = Bytes(i + 1) });
                        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
                        indexes.Add(call.ResponseStream.Current.Index);
                    }
                    await call.RequestStream.CompleteAsync();
                    Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None));
                    o["indexes"] = indexes;
                }
                break;
            case "unicode_status":
                await client.EchoAsync(new EchoRequest { Status = new StatusToReturn { Code = 9, Message = UnicodeMessage } });
                break;
            case "rich_error":
                await client.EchoAsync(new EchoRequest { Status = new StatusToReturn { Code = 3, Message = "signal is invalid" }, RichError = true });
                break;
            case "unimplemented":
                var codes = new JsonArray();
                var messages = new JsonArray();
                // Methods the server does not have: no generated client knows them, so they are built by name.
                foreach (var method in new[] { Missing.Method("ketenmesh.testing.v1.InteropTestService", "NoSuchMethod"), Missing.Method("ketenmesh.testing.v1.NoSuchService", "Echo") })
                {
                    try
                    {
                        await channel.Bounded().AsyncUnaryCall(method, null, new CallOptions(), new Empty());
                        codes.Add(0);
                    }
                    catch (RpcException ex)
                    {
                        codes.Add((int)ex.StatusCode);
                        messages.Add(ex.Status.Detail);
                    }
                }
                o["codes"] = codes;
                o["messages"] = messages;
                break;
            case "deadline":
                var watch = Stopwatch.StartNew();
                try
                {
                    await client.EchoAsync(new EchoRequest { DelayMs = 5000 }, Clients.Within(TimeSpan.FromMilliseconds(300)));
                }
                finally
                {
                    o["elapsed_ms"] = watch.Elapsed.TotalMilliseconds;
                }
                break;
            case "cancel":
                var probe = Guid.NewGuid().ToString("N");
                using (var cts = new CancellationTokenSource())
                using (var pending = client.EchoAsync(new EchoRequest { DelayMs = 5000, ProbeId = probe }, cancellationToken: cts.Token))
                {
                    // Cancel once the server's handler is running, not after a guess at how long getting there takes.
                    for (var attempt = 0; attempt < 250 && !(await client.WasCancelledAsync(new WasCancelledRequest { ProbeId = probe })).Seen; attempt++)
                    {
                        await Task.Delay(20);
                    }

                    await cts.CancelAsync();
                    try
                    {
                        await pending.ResponseAsync;
                    }
                    catch (RpcException ex)
                    {
                        o["code"] = (int)ex.StatusCode;
                    }
                }
                var result = new WasCancelledResponse();
                for (var attempt = 0; attempt < 60 && !result.Cancelled; attempt++)
                {
                    result = await client.WasCancelledAsync(new WasCancelledRequest { ProbeId = probe });
                    if (!result.Cancelled)
                    {
                        await Task.Delay(50);
                    }
                }
                o["probe_seen"] = result.Seen;
                o["probe_cancelled"] = result.Cancelled;
                break;
            case "metadata":
                var headers = new Metadata { { "x-echo-text", EchoText }, { "x-echo-bin", EchoBinary } };
                using (var call = client.EchoAsync(new EchoRequest { EchoMetadata = true }, headers))
                {
                    await call;
                    o["headers"] = ToJson(await call.ResponseHeadersAsync);
                    o["trailers"] = ToJson(call.GetTrailers());
                }
                break;
            case "gzip":
                var payload = ByteString.CopyFrom(Enumerable.Repeat((byte)'a', 100_000).ToArray());
                // Grpc.Net.Client compresses a call's request when this header names the encoding.
                var compressed = new Metadata { { "grpc-internal-encoding-request", "gzip" } };
                var echoed = await client.EchoAsync(new EchoRequest { Payload = payload }, compressed);
                o["request_encoding"] = echoed.RequestEncoding;
                o["response_bytes"] = echoed.Payload.Length;
                o["payload_matches"] = echoed.Payload.Equals(payload);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(scenario), scenario, "unknown scenario");
        }
    }

    private static JsonObject ToJson(Metadata metadata)
    {
        var json = new JsonObject();
        foreach (var entry in metadata.Where(e => e.Key.StartsWith("x-echo-", StringComparison.Ordinal)))
        {
            json[entry.Key] = entry.IsBinary ? Convert.ToBase64String(entry.ValueBytes) : entry.Value;
        }
        return json;
    }

    private static int[] Ints(JsonNode? node) => node!.AsArray().Select(n => n!.GetValue<int>()).ToArray();

    private static ByteString Bytes(int length) => ByteString.CopyFrom(new byte[length]);
}

/// <summary>Unary methods by name, for calling what a server does not have (the generated clients know only what it has).</summary>
public static class Missing
{
    private static readonly Marshaller<Empty> EmptyMarshaller = Marshallers.Create(m => m.ToByteArray(), Empty.Parser.ParseFrom);

    public static Method<Empty, Empty> Method(string service, string name) => new(MethodType.Unary, service, name, EmptyMarshaller, EmptyMarshaller);
}
