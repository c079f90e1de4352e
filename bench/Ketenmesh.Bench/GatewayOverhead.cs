using System.Globalization;
using System.Net;
using System.Text;
using Chain.Risk.V1;
using Google.Protobuf;
using Ketenmesh.Gateway.Access;
using Ketenmesh.Grpc;
using Ketenmesh.Grpc.Client;
using Ketenmesh.Grpc.Server;
using Ketenmesh.Hosting;
using Ketenmesh.Identity.Domain;
using Ketenmesh.Mesh;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ketenmesh.Bench;

/// <summary>
/// The same unary call, direct to the service and through the gateway (token validation, purpose and
/// grant, field mask, durable audit record), side by side in one run. The service is risk assessment
/// on our gRPC layer answering a fixed assessment; the caller is a municipality under
/// administrative_enforcement, whose grant masks the assessment down to four fields.
/// </summary>
public static class GatewayOverhead
{
    private const string Path = "/chain.risk.v1.RiskAssessment/GetAssessment";

    public static async Task<string> RunAsync(string requestFile, LoadProfile[] profiles, int rounds)
    {
        var data = Directory.CreateTempSubdirectory("ketenmesh-bench-gateway-").FullName;
        var upstream = await StartUpstreamAsync();
        var gatewayPort = FreePort();
        var mesh = MeshHost.BuildEmbedded(MeshComponents.All, [], c => c.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Mesh:DataDirectory"] = data,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Gateway:Routes:chain.risk.v1"] = upstream.Address.ToString(),
            ["Gateway:RateLimitPerSecond"] = "10000000",
            ["Gateway:RateLimitBurst"] = "10000000",
            ["Components:gateway:Service:Port"] = gatewayPort.ToString(CultureInfo.InvariantCulture),
        }));
        await mesh.App.StartAsync();
        try
        {
            var policy = mesh.App.Services.GetRequiredService<CurrentPolicy>();
            for (var i = 0; i < 200 && policy.Value.IsEmpty; i++)
            {
                await Task.Delay(50);
            }
            var partner = PartnerCatalog.Seeded.Find("municipality")!;
            var token = mesh.App.Services.GetRequiredService<AccessTokenIssuer>().Issue(partner, "municipality-local", partner.Purposes).AccessToken;
            var gateway = new Uri($"http://127.0.0.1:{gatewayPort}");
            var throughGateway = new Dictionary<string, string> { ["authorization"] = "Bearer " + token, ["x-purpose"] = "administrative_enforcement" };
            var direct = new Dictionary<string, string> { ["x-chain-partner-id"] = "municipality", ["x-chain-purpose"] = "administrative_enforcement", ["x-chain-grant-id"] = "municipality-administrative-enforcement" };
            var masked = await CheckAsync(gateway, throughGateway);

            var runs = new Dictionary<(string Route, string Profile), List<LoadResult>>();
            for (var round = 1; round <= rounds; round++)
            {
                foreach (var profile in profiles)
                {
                    foreach (var (route, address, headers) in new[] { ("direct", upstream.Address, direct), ("gateway", gateway, throughGateway) })
                    {
                        var result = await H2Load.RunAsync(address, Path, requestFile, profile, headers);
                        Console.WriteLine($"round {round}  {route,-8} {profile.Name,-40} {result.RequestsPerSecond,10:N0} req/s  p50 {result.P50Milliseconds:N2} ms  p99 {result.P99Milliseconds:N2} ms  failed {result.Failed}");
                        (runs.TryGetValue((route, profile.Name), out var list) ? list : runs[(route, profile.Name)] = []).Add(result);
                    }
                }
            }
            var median = runs.ToDictionary(r => r.Key, r => r.Value.OrderBy(x => x.RequestsPerSecond).ElementAt(r.Value.Count / 2));
            return Report(median, profiles, rounds, masked);
        }
        finally
        {
            await mesh.App.StopAsync();
            await mesh.App.DisposeAsync();
            await upstream.StopAsync();
            Directory.Delete(data, recursive: true);
        }
    }

    public static byte[] RequestFrame()
    {
        var body = new GetAssessmentRequest { SignalId = "sg-0001" }.ToByteArray();
        var frame = new byte[5 + body.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)body.Length);
        body.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>One real call through the gateway first: it must be allowed and masked, or the figures mean nothing.</summary>
    private static async Task<GetAssessmentResponse> CheckAsync(Uri gateway, Dictionary<string, string> headers)
    {
        using var channel = GrpcChannel.ForAddress(gateway);
        var method = Method<GetAssessmentRequest, GetAssessmentResponse>.From(RiskReflection.Descriptor.Services[0].FindMethodByName("GetAssessment"));
        var metadata = new Metadata();
        foreach (var (key, value) in headers)
        {
            metadata.Add(key, value);
        }
        var response = await new GrpcClient(channel).UnaryCall(method, new GetAssessmentRequest { SignalId = "sg-0001" }, new CallOptions(metadata));
        if (response.Assessment.Score != 0 || response.Assessment.Band == RiskBand.Unspecified)
        {
            throw new InvalidOperationException($"The gateway did not apply the grant's mask: {response}");
        }
        return response;
    }

    private static async Task<Target> StartUpstreamAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2);
            k.Limits.Http2.MaxStreamsPerConnection = 1000;
        });
        builder.Services.AddGrpcServer().AddSingleton<RiskAssessmentStandIn>();
        var app = builder.Build();
        app.MapGrpcService<RiskAssessmentStandIn>(RiskReflection.Descriptor.Services[0]);
        await app.StartAsync();
        var address = new Uri(app.Urls.First());
        return new Target("risk-stand-in", "risk assessment on our gRPC layer", address, async () =>
        {
            await app.StopAsync();
            await app.DisposeAsync();
        });
    }

    private static string Report(Dictionary<(string Route, string Profile), LoadResult> results, LoadProfile[] profiles, int rounds, GetAssessmentResponse masked)
    {
        var text = new StringBuilder();
        text.AppendLine("## Gateway overhead");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Unary `{Path}` answered by the same service (our gRPC layer, fixed answer), called directly and through the gateway of the embedded mesh (`./mesh up`): token validation (ES256, validated tokens cached until exp), purpose and published grant, the municipality's field mask (4 of 8 assessment fields leave), trusted headers, and a durable audit record before the call is forwarded (SQLite, synchronous=FULL, group commit). {rounds} rounds alternating direct and gateway; the median round shown.");
        text.AppendLine();
        text.AppendLine("| load | route | requests/s | p50 ms | p99 ms | failed |");
        text.AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var profile in profiles)
        {
            foreach (var route in new[] { "direct", "gateway" })
            {
                var r = results[(route, profile.Name)];
                text.AppendLine(CultureInfo.InvariantCulture, $"| {profile.Name} | {route} | {r.RequestsPerSecond:N0} | {r.P50Milliseconds:N2} | {r.P99Milliseconds:N2} | {r.Failed} |");
            }
        }
        text.AppendLine();
        foreach (var profile in profiles)
        {
            var direct = results[("direct", profile.Name)];
            var gateway = results[("gateway", profile.Name)];
            text.AppendLine(CultureInfo.InvariantCulture, $"- {profile.Name}: gateway throughput = {gateway.RequestsPerSecond / direct.RequestsPerSecond:P0} of direct (aim ≥ 70%); gateway p50 = {gateway.P50Milliseconds / direct.P50Milliseconds:N2}× direct (aim ≤ 1.25×).");
        }
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"The answer through the gateway, checked before the run: `{masked}`.");
        text.AppendLine();
        return text.ToString();
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
