using Grpc.Net.Client;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Health.V1;
using Grpc.Reflection.V1;
using Ketenmesh.Grpc.Client;
using Ketenmesh.Grpc.Health;
using Ketenmesh.Grpc.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace Ketenmesh.Grpc.Tests.Conformance;

public sealed class HealthAndReflectionTests : IAsyncLifetime
{
    private static readonly Method<HealthCheckRequest, HealthCheckResponse> Check =
        Method<HealthCheckRequest, HealthCheckResponse>.From(HealthReflection.Descriptor.Services[0].FindMethodByName("Check"));
    private static readonly Method<HealthCheckRequest, HealthCheckResponse> Watch =
        Method<HealthCheckRequest, HealthCheckResponse>.From(HealthReflection.Descriptor.Services[0].FindMethodByName("Watch"));
    private static readonly Method<ServerReflectionRequest, ServerReflectionResponse> Reflect =
        Method<ServerReflectionRequest, ServerReflectionResponse>.From(ReflectionReflection.Descriptor.Services[0].Methods[0]);
    private static readonly Method<global::Grpc.Reflection.V1Alpha.ServerReflectionRequest, global::Grpc.Reflection.V1Alpha.ServerReflectionResponse> ReflectAlpha =
        Method<global::Grpc.Reflection.V1Alpha.ServerReflectionRequest, global::Grpc.Reflection.V1Alpha.ServerReflectionResponse>.From(
            global::Grpc.Reflection.V1Alpha.ReflectionReflection.Descriptor.Services[0].Methods[0]);

    private TestServer _server = null!;
    private GrpcChannel _channel = null!;
    private GrpcClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        _channel = GrpcChannel.ForAddress(_server.Address);
        _client = new GrpcClient(_channel);
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Health_check_reports_the_server_and_each_mapped_service_serving()
    {
        Assert.Equal(ServingStatus.Serving, (await _client.UnaryCall(Check, new HealthCheckRequest())).Status);
        Assert.Equal(ServingStatus.Serving, (await _client.UnaryCall(Check, new HealthCheckRequest { Service = "ketenmesh.testing.v1.InteropTestService" })).Status);
    }

    [Fact]
    public async Task Health_check_of_an_unknown_service_is_not_found()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _client.UnaryCall(Check, new HealthCheckRequest { Service = "chain.nowhere.v1.Nothing" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task Health_watch_streams_the_current_status_then_each_change()
    {
        const string service = "ketenmesh.testing.v1.InteropTestService";
        using var call = _client.ServerStreamingCall(Watch, new HealthCheckRequest { Service = service });
        Assert.True(await call.ResponseStream.MoveNext(default));
        Assert.Equal(ServingStatus.Serving, call.ResponseStream.Current.Status);

        _server.Services.GetRequiredService<HealthStatusRegistry>().SetStatus(service, ServingStatus.NotServing);
        Assert.True(await call.ResponseStream.MoveNext(default));
        Assert.Equal(ServingStatus.NotServing, call.ResponseStream.Current.Status);
    }

    [Fact]
    public async Task Health_watch_of_an_unknown_service_says_service_unknown_and_keeps_watching()
    {
        using var call = _client.ServerStreamingCall(Watch, new HealthCheckRequest { Service = "later.v1.Service" });
        Assert.True(await call.ResponseStream.MoveNext(default));
        Assert.Equal(ServingStatus.ServiceUnknown, call.ResponseStream.Current.Status);
        _server.Services.GetRequiredService<HealthStatusRegistry>().SetStatus("later.v1.Service", ServingStatus.Serving);
        Assert.True(await call.ResponseStream.MoveNext(default));
        Assert.Equal(ServingStatus.Serving, call.ResponseStream.Current.Status);
    }

    [Fact]
    public async Task Reflection_lists_every_service_including_health_and_reflection()
    {
        var response = await AskAsync(new ServerReflectionRequest { ListServices = "*" });
        var names = response.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("ketenmesh.testing.v1.InteropTestService", names);
        Assert.Contains("grpc.health.v1.Health", names);
        Assert.Contains("grpc.reflection.v1.ServerReflection", names);
        Assert.Contains("grpc.reflection.v1alpha.ServerReflection", names);
    }

    [Fact]
    public async Task Reflection_gives_the_file_of_a_method_with_its_imports_so_a_client_can_rebuild_it()
    {
        var response = await AskAsync(new ServerReflectionRequest { FileContainingSymbol = "ketenmesh.testing.v1.InteropTestService.Echo" });
        var files = response.FileDescriptorResponse.FileDescriptorProto.Select(FileDescriptorProto.Parser.ParseFrom).ToList();
        Assert.Contains(files, f => f.Name == "ketenmesh/testing/v1/interop.proto");
        Assert.Contains(files, f => f.Name == "google/protobuf/empty.proto");
        var built = FileDescriptor.BuildFromByteStrings(response.FileDescriptorResponse.FileDescriptorProto);
        var service = built.Single(f => f.Name == "ketenmesh/testing/v1/interop.proto").Services.Single();
        Assert.Equal(["Empty", "Echo", "Count", "Collect", "Converse", "WasCancelled"], service.Methods.Select(m => m.Name));
    }

    [Theory]
    [InlineData("ketenmesh.testing.v1.EchoRequest")]
    [InlineData("ketenmesh.testing.v1.InteropTestService")]
    [InlineData("grpc.health.v1.HealthCheckResponse.ServingStatus")]
    [InlineData("google.rpc.BadRequest")]
    [InlineData("google.rpc.Status")]
    public async Task Reflection_finds_the_file_of_messages_services_nested_enums_and_rich_error_details(string symbol)
    {
        var response = await AskAsync(new ServerReflectionRequest { FileContainingSymbol = symbol });
        Assert.NotEmpty(response.FileDescriptorResponse.FileDescriptorProto);
    }

    [Fact]
    public async Task Reflection_by_file_name_works_and_an_unknown_symbol_is_not_found()
    {
        var byName = await AskAsync(new ServerReflectionRequest { FileByFilename = "grpc/health/v1/health.proto" });
        Assert.Equal("grpc/health/v1/health.proto", FileDescriptorProto.Parser.ParseFrom(byName.FileDescriptorResponse.FileDescriptorProto.Last()).Name);

        var missing = await AskAsync(new ServerReflectionRequest { FileContainingSymbol = "chain.nowhere.v1.Nothing" });
        Assert.Equal((int)StatusCode.NotFound, missing.ErrorResponse.ErrorCode);
    }

    [Fact]
    public async Task Reflection_v1alpha_answers_like_v1()
    {
        using var call = _client.DuplexStreamingCall(ReflectAlpha);
        await call.RequestStream.WriteAsync(new global::Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = "*" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(default));
        Assert.Contains(call.ResponseStream.Current.ListServicesResponse.Service, s => s.Name == "ketenmesh.testing.v1.InteropTestService");
    }

    private async Task<ServerReflectionResponse> AskAsync(ServerReflectionRequest request)
    {
        using var call = _client.DuplexStreamingCall(Reflect);
        await call.RequestStream.WriteAsync(request);
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(default));
        return call.ResponseStream.Current;
    }
}
