using System.Diagnostics;
using System.Net;
using Google.Protobuf;
using Ketenmesh.Testing.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ketenmesh.Bench;

/// <summary>A server under load: where it listens and how to stop it.</summary>
public sealed record Target(string Name, string Description, Uri Address, Func<Task> StopAsync);

public static class Targets
{
    public const string EchoPath = "/ketenmesh.testing.v1.InteropTestService/Echo";

    /// <summary>The name the grpc-dotnet target goes by in the tables.</summary>
    public const string GrpcDotnet = "grpc-dotnet (as the mesh hosts it)";

    /// <summary>grpc-dotnet serving the echo service, hosted as every component of the mesh is.</summary>
    public static Task<Target> GrpcDotnetAsync() =>
        MeshHosted.StartAsync<EchoService>(GrpcDotnet,
            $"Grpc.AspNetCore {MeshHosted.GrpcDotnetVersion} on Kestrel, hosted as each mesh component is (MeshHost.Build: AddChainGrpc with its refusal, request-validation and caller-partner interceptors, health and reflection; call metrics; OpenTelemetry tracing and metrics, no exporter), the echo service (a generated InteropTestServiceBase) mapped with MapGrpcService");

    /// <summary>
    /// The floor: Kestrel answering the same path with a fixed, pre-encoded gRPC response frame and
    /// trailers, after draining the request. No parsing, no routing of methods, no service.
    /// </summary>
    public static async Task<Target> RawKestrelAsync(byte[] responseFrame)
    {
        var app = Kestrel(builder => builder.Services.AddRouting());
        app.MapPost(EchoPath, async (HttpContext http) =>
        {
            var reader = http.Request.BodyReader;
            while (true)
            {
                var result = await reader.ReadAsync();
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
            http.Response.ContentType = "application/grpc";
            await http.Response.BodyWriter.WriteAsync(responseFrame);
            http.Response.AppendTrailer("grpc-status", "0");
        });
        return await StartAsync(app, "raw-kestrel", "Kestrel HTTP/2 writing a fixed gRPC frame (the floor)");
    }

    public static Task<Target> NodeAsync(string repoRoot) =>
        PeerAsync("grpc-js", $"@grpc/grpc-js 1.14.7 on Node {Output("node", "--version").TrimStart('v')}", "node", Path.Combine(repoRoot, "tests/peers/node/peer.js"));

    private static string Output(string command, string argument)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(command, argument) { RedirectStandardOutput = true })!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return output;
    }

    public static Task<Target> PythonAsync(string repoRoot) =>
        PeerAsync("python3-grpcio", "python3-grpcio 1.51.1 (C core), 32 worker threads", "/usr/bin/python3", Path.Combine(repoRoot, "tests/peers/python/peer.py"));

    public static byte[] EchoRequestFrame(int payloadBytes) => Frame(new EchoRequest { Payload = ByteString.CopyFrom(new byte[payloadBytes]) });

    public static byte[] EchoResponseFrame(int payloadBytes) => Frame(new EchoResponse { Payload = ByteString.CopyFrom(new byte[payloadBytes]) });

    private static byte[] Frame(IMessage message)
    {
        var body = message.ToByteArray();
        var frame = new byte[5 + body.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)body.Length);
        body.CopyTo(frame, 5);
        return frame;
    }

    private static WebApplication Kestrel(Action<WebApplicationBuilder> configure)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2);
            k.Limits.Http2.MaxStreamsPerConnection = 1000;
        });
        configure(builder);
        return builder.Build();
    }

    private static async Task<Target> StartAsync(WebApplication app, string name, string description)
    {
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new Target(name, description, address, async () =>
        {
            await app.StopAsync();
            await app.DisposeAsync();
        });
    }

    private static async Task<Target> PeerAsync(string name, string description, string executable, string script)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(script);
        info.ArgumentList.Add("server");
        info.Environment["KETENMESH_INTEROP_DESCRIPTORS"] = Path.Combine(AppContext.BaseDirectory, "interop.binpb");
        var process = Process.Start(info)!;
        _ = process.StandardError.ReadToEndAsync();
        string? line;
        while ((line = await process.StandardOutput.ReadLineAsync()) is not null && !line.StartsWith("LISTENING ", StringComparison.Ordinal))
        {
        }
        if (line is null)
        {
            throw new InvalidOperationException($"{name} server did not start");
        }
        var address = new Uri($"http://127.0.0.1:{line["LISTENING ".Length..].Trim()}");
        return new Target(name, description, address, async () =>
        {
            process.StandardInput.Close();
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        });
    }
}
