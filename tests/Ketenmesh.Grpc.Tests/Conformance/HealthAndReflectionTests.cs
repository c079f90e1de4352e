using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Grpc.Net.Client;
using Grpc.Reflection.V1;
using Ketenmesh.Grpc.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Xunit;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;
using V1Alpha = Grpc.Reflection.V1Alpha;

namespace Ketenmesh.Grpc.Tests.Conformance;

/// <summary>A readiness check a test can fail, standing in for a component's database or bus.</summary>
public sealed class SwitchableReadiness : IHealthCheck
{
    public volatile bool Ready = true;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Ready ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("switched off by the test"));
}

/// <summary>grpc.health.v1 and server reflection (v1, v1alpha) as MapGrpcHealthAndReflection serves them.</summary>
public sealed class HealthAndReflectionTests : IAsyncLifetime
{
    private const string InteropService = "ketenmesh.testing.v1.InteropTestService";

    private readonly SwitchableReadiness _readiness = new();
    private TestServer _server = null!;
    private GrpcChannel _channel = null!;
    private Health.HealthClient _health = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(configureServices: s => s.AddHealthChecks()
            .AddCheck("switchable", _readiness, tags: [Ketenmesh.Persistence.Readiness.Tag]));
        _channel = GrpcChannel.ForAddress(_server.Address);
        _health = new Health.HealthClient(_channel.Bounded());
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Health_check_reports_the_server_serving()
    {
        Assert.Equal(ServingStatus.Serving, (await _health.CheckAsync(new HealthCheckRequest())).Status);
    }

    [Fact]
    public async Task Failing_readiness_makes_the_server_not_serving()
    {
        _readiness.Ready = false;

        Assert.Equal(ServingStatus.NotServing, (await _health.CheckAsync(new HealthCheckRequest())).Status);
    }

    // The k8s livenessProbes (service: liveness) fail on anything but SERVING; Grpc.AspNetCore.HealthChecks
    // answers UNKNOWN for a name with no check at all, so liveness has one that always passes.
    [Fact]
    public async Task Liveness_is_serving_even_while_readiness_fails()
    {
        var liveness = new HealthCheckRequest { Service = Hosting.GrpcServer.ProcessHealth.LivenessService };
        Assert.Equal(ServingStatus.Serving, (await _health.CheckAsync(liveness)).Status);
        // k8s restarts a process whose liveness fails; a database that is down is no reason to.
        _readiness.Ready = false;
        Assert.Equal(ServingStatus.Serving, (await _health.CheckAsync(liveness)).Status);
    }

    // Every mapped service has a status under its own name (the k8s readinessProbe may name one), read off the
    // endpoints once mapped: the health options are built after that, when routing has not yet taken them.
    [Fact]
    public async Task Each_mapped_service_has_a_health_status_that_follows_readiness()
    {
        Assert.Equal(ServingStatus.Serving, (await _health.CheckAsync(new HealthCheckRequest { Service = InteropService })).Status);
        _readiness.Ready = false;
        Assert.Equal(ServingStatus.NotServing, (await _health.CheckAsync(new HealthCheckRequest { Service = InteropService })).Status);
    }

    [Fact]
    public async Task Health_check_of_an_unknown_service_is_not_found()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => _health.CheckAsync(new HealthCheckRequest { Service = "chain.nowhere.v1.Nothing" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task Health_watch_streams_the_current_status_then_each_change()
    {
        using var call = _health.Watch(new HealthCheckRequest());
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(ServingStatus.Serving, call.ResponseStream.Current.Status);

        _readiness.Ready = false;
        // The change arrives with the next readiness publication (every 2 s); the call's deadline bounds the wait.
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(ServingStatus.NotServing, call.ResponseStream.Current.Status);

        _readiness.Ready = true;
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(ServingStatus.Serving, call.ResponseStream.Current.Status);
    }

    [Fact]
    public async Task Health_watch_of_an_unknown_service_says_service_unknown_and_keeps_watching()
    {
        using var call = _health.Watch(new HealthCheckRequest { Service = "later.v1.Service" });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(ServingStatus.ServiceUnknown, call.ResponseStream.Current.Status);

        // No readiness mapping names this service, so set its status where the health checks publisher sets
        // every status: the stream must still be open to carry it.
        _server.Services.GetRequiredService<HealthServiceImpl>().SetStatus("later.v1.Service", ServingStatus.Serving);
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(ServingStatus.Serving, call.ResponseStream.Current.Status);
    }

    [Fact]
    public async Task Reflection_lists_every_service_including_health_and_reflection()
    {
        var response = await AskAsync(new ServerReflectionRequest { ListServices = "*" });
        var names = response.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains(InteropService, names);
        Assert.Contains("grpc.health.v1.Health", names);
        Assert.Contains("grpc.reflection.v1.ServerReflection", names);
        Assert.Contains("grpc.reflection.v1alpha.ServerReflection", names);
    }

    [Fact]
    public async Task Reflection_gives_the_file_of_a_method_with_its_imports_so_a_client_can_rebuild_it()
    {
        var response = await AskAsync(new ServerReflectionRequest { FileContainingSymbol = InteropService + ".Echo" });
        var files = response.FileDescriptorResponse.FileDescriptorProto.Select(FileDescriptorProto.Parser.ParseFrom).ToList();
        Assert.Contains(files, f => f.Name == "ketenmesh/testing/v1/interop.proto");
        Assert.Contains(files, f => f.Name == "google/protobuf/empty.proto");
        // The protocol sets no order on the files (grpc-dotnet sends the file before its imports); a client
        // builds them imports first.
        var built = FileDescriptor.BuildFromByteStrings(ImportsFirst(response.FileDescriptorResponse.FileDescriptorProto));
        var service = built.Single(f => f.Name == "ketenmesh/testing/v1/interop.proto").Services.Single();
        Assert.Equal(["Empty", "Echo", "Count", "Collect", "Converse", "WasCancelled"], service.Methods.Select(m => m.Name));
    }

    // google.rpc.Status and BadRequest (the rich error details) are not here: grpc-dotnet's reflection serves only
    // the files the mapped services reach through their imports, and neither this contract nor any chain contract
    // imports google/rpc (the old layer added them on purpose).
    [Theory]
    [InlineData("ketenmesh.testing.v1.EchoRequest")]
    [InlineData(InteropService)]
    [InlineData("grpc.health.v1.HealthCheckResponse.ServingStatus")]
    public async Task Reflection_finds_the_file_of_messages_services_and_nested_enums(string symbol)
    {
        var response = await AskAsync(new ServerReflectionRequest { FileContainingSymbol = symbol });
        Assert.NotEmpty(response.FileDescriptorResponse.FileDescriptorProto);
    }

    [Fact]
    public async Task Reflection_by_file_name_works_and_an_unknown_symbol_is_not_found()
    {
        var byName = await AskAsync(new ServerReflectionRequest { FileByFilename = "ketenmesh/testing/v1/interop.proto" });
        Assert.Contains(byName.FileDescriptorResponse.FileDescriptorProto.Select(FileDescriptorProto.Parser.ParseFrom),
            f => f.Name == "ketenmesh/testing/v1/interop.proto");

        var missing = await AskAsync(new ServerReflectionRequest { FileContainingSymbol = "chain.nowhere.v1.Nothing" });
        Assert.Equal((int)StatusCode.NotFound, missing.ErrorResponse.ErrorCode);
    }

    [Fact]
    public async Task Reflection_v1alpha_answers_like_v1()
    {
        using var call = new V1Alpha.ServerReflection.ServerReflectionClient(_channel.Bounded()).ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new V1Alpha.ServerReflectionRequest { ListServices = "*" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Contains(call.ResponseStream.Current.ListServicesResponse.Service, s => s.Name == InteropService);
    }

    private static List<ByteString> ImportsFirst(IEnumerable<ByteString> files)
    {
        var byName = files.ToDictionary(f => FileDescriptorProto.Parser.ParseFrom(f).Name);
        var ordered = new List<ByteString>();
        var added = new HashSet<string>();
        void Add(string name)
        {
            if (byName.TryGetValue(name, out var file) && added.Add(name))
            {
                foreach (var dependency in FileDescriptorProto.Parser.ParseFrom(file).Dependency)
                {
                    Add(dependency);
                }
                ordered.Add(file);
            }
        }
        foreach (var name in byName.Keys)
        {
            Add(name);
        }
        return ordered;
    }

    private async Task<ServerReflectionResponse> AskAsync(ServerReflectionRequest request)
    {
        using var call = new ServerReflection.ServerReflectionClient(_channel.Bounded()).ServerReflectionInfo();
        await call.RequestStream.WriteAsync(request);
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        return call.ResponseStream.Current;
    }
}
