using Chain.Signals.V1;
using Grpc.Reflection.V1;
using Grpc.Core;
using Ketenmesh.Testing;
using Grpc.Net.Client;
using Ketenmesh.Hosting.GrpcServer;
using Ketenmesh.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Mesh.Tests;

/// <summary>A second component in the same process, to show each port serves only its own component.</summary>
public sealed class HealthOnlyComponent(int port) : IMeshComponent
{
    public string Name => "probe";

    public int DefaultPort => port;

    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
    }

    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
    }
}

public sealed class PortScopeTests
{
    [Fact]
    public async Task In_one_process_a_service_answers_only_on_its_components_port()
    {
        var signalsPort = FreePort();
        var otherPort = FreePort();
        var data = Directory.CreateTempSubdirectory("ketenmesh-ports-").FullName;
        var mesh = MeshHost.BuildEmbedded(
            [new Signals.SignalsComponent(), new HealthOnlyComponent(otherPort)],
            [],
            c => c.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Mesh:DataDirectory"] = data,
                ["Components:signals:Service:Port"] = signalsPort.ToString(),
                ["CallerTrust:Gateway"] = TestGateway.Shared.Address.ToString(),
            }));
        await mesh.App.StartAsync();
        try
        {
            var options = new CallOptions(headers: new Metadata { { CallerPartner.PartnerHeader, "police" } });
            using var right = TestGateway.Shared.Channel(new Uri($"http://127.0.0.1:{signalsPort}"));
            using var wrong = TestGateway.Shared.Channel(new Uri($"http://127.0.0.1:{otherPort}"));

            Assert.Empty((await right.Intake().ListMySignalsAsync(new ListMySignalsRequest(), options)).Signals);
            var error = await Assert.ThrowsAsync<RpcException>(() => wrong.Intake().ListMySignalsAsync(new ListMySignalsRequest(), options).ResponseAsync);
            Assert.Equal(StatusCode.Unimplemented, error.StatusCode);

            Assert.Contains("chain.signals.v1.SignalIntake", await ListServicesAsync(right));
            Assert.DoesNotContain("chain.signals.v1.SignalIntake", await ListServicesAsync(wrong));
        }
        finally
        {
            await mesh.App.StopAsync();
            await mesh.App.DisposeAsync();
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<List<string>> ListServicesAsync(GrpcChannel channel)
    {
        using var call = channel.Reflection().ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(default));
        return call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
