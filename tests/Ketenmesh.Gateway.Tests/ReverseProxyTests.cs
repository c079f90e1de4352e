using Grpc.Core;
using Ketenmesh.Gateway.Tests.Support;
using Ketenmesh.Testing;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Ketenmesh.Gateway.Tests;

/// <summary>YARP as the gateway's forwarder: routes from configuration, only on the gateway's port, and active health checks.</summary>
public sealed class ReverseProxyTests : IAsyncLifetime
{
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(settings: new()
    {
        // A second replica of signal intake that is down: nothing listens on port 9 (discard) on loopback here.
        ["ReverseProxy:Clusters:signals:Destinations:down:Address"] = "http://127.0.0.1:9",
    });

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task A_replica_that_fails_its_probes_gets_no_calls_once_health_checks_mark_it()
    {
        var proxy = _mesh.Services.GetRequiredService<IProxyStateLookup>();
        Assert.True(proxy.TryGetCluster("signals", out var cluster));
        await Eventually.SucceedsAsync(() =>
        {
            Assert.Equal(DestinationHealth.Unhealthy, cluster.Destinations["down"].Health.Active);
            Assert.Equal(DestinationHealth.Healthy, cluster.Destinations["signals"].Health.Active);
            return Task.CompletedTask;
        });

        var client = _mesh.Channel.Intake();
        for (var i = 0; i < 20; i++)
        {
            // With the dead replica still in rotation, about half of these would be UNAVAILABLE.
            await client.ListMySignalsAsync(new Chain.Signals.V1.ListMySignalsRequest { PageSize = 1 }, GatewayMesh.Options(_mesh.As("police", "signalling")));
        }
    }

    [Fact]
    public async Task The_proxy_routes_only_on_the_gateways_port_and_a_service_port_answers_for_itself()
    {
        // On signal intake's own port a registry path is simply not there; had the gateway's routes leaked
        // onto it (one process hosts every component when embedded), the gateway would answer instead.
        using var direct = new RawGrpc(_mesh.AddressOf("signals"));
        var result = await direct.CallAsync("chain.registry.v1.VictimRegistry/GetRegistration", [[]]);

        // The gateway would have refused the tokenless call as UNAUTHENTICATED and put that on record.
        Assert.NotEqual((int)StatusCode.Unauthenticated, result.Status);
        Assert.Empty(await _mesh.AuditAsync());
    }

    [Fact]
    public async Task A_path_outside_every_route_is_decided_and_on_record_not_left_to_a_404()
    {
        var result = await _mesh.Raw.CallAsync("chain.nothing.v1.Nowhere/Call", [[]], _mesh.As("police", "signalling"));

        Assert.Equal((int)StatusCode.PermissionDenied, result.Status);
        var entry = Assert.Single(await _mesh.AuditAsync());
        Assert.Equal("chain.nothing.v1.Nowhere/Call", entry.Method);
    }
}
