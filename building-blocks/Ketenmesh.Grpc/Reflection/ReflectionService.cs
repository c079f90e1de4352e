using Google.Protobuf;
using Grpc.Reflection.V1;
using Ketenmesh.Grpc.Server;

namespace Ketenmesh.Grpc.Reflection;

/// <summary>
/// The standard server reflection service (<c>grpc.reflection.v1</c>), so buf curl, grpcurl and Postman
/// can call any service here without the .proto files.
/// </summary>
internal sealed class ReflectionService(GrpcServiceRegistry registry)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, DescriptorIndex> _indexes = new();

    public async Task ServerReflectionInfo(
        IAsyncStreamReader<ServerReflectionRequest> requestStream,
        IServerStreamWriter<ServerReflectionResponse> responseStream,
        ServerCallContext context)
    {
        // Per stream, each file is sent once: a client that already has a dependency need not get it again.
        var sent = new HashSet<string>(StringComparer.Ordinal);
        var index = IndexFor(context);
        while (await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            await responseStream.WriteAsync(Answer(index, requestStream.Current, sent)).ConfigureAwait(false);
        }
    }

    /// <summary>What this port serves: in the embedded mesh each component's port shows only its own services.</summary>
    internal DescriptorIndex IndexFor(ServerCallContext context)
    {
        var port = context is HttpServerCallContext call ? call.LocalPort : 0;
        return _indexes.GetOrAdd(port, p => new DescriptorIndex(registry.ServicesOn(p == 0 ? null : p)));
    }

    internal static ServerReflectionResponse Answer(DescriptorIndex index, ServerReflectionRequest request, HashSet<string> sent)
    {
        var response = new ServerReflectionResponse { ValidHost = request.Host, OriginalRequest = request };
        switch (request.MessageRequestCase)
        {
            case ServerReflectionRequest.MessageRequestOneofCase.ListServices:
                var list = new ListServiceResponse();
                list.Service.AddRange(index.Services.Select(name => new ServiceResponse { Name = name }));
                response.ListServicesResponse = list;
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileByFilename:
                Files(response, index.FindFile(request.FileByFilename), sent, $"File '{request.FileByFilename}' is not known here.");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileContainingSymbol:
                Files(response, index.FindSymbol(request.FileContainingSymbol), sent, $"Symbol '{request.FileContainingSymbol}' is not known here.");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileContainingExtension:
                Error(response, StatusCode.NotFound, $"Extension {request.FileContainingExtension.ExtensionNumber} of '{request.FileContainingExtension.ContainingType}' is not known here.");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.AllExtensionNumbersOfType:
                if (index.FindSymbol(request.AllExtensionNumbersOfType) is null)
                {
                    Error(response, StatusCode.NotFound, $"Type '{request.AllExtensionNumbersOfType}' is not known here.");
                }
                else
                {
                    // Our contracts are proto3 and declare no extensions.
                    response.AllExtensionNumbersResponse = new ExtensionNumberResponse { BaseTypeName = request.AllExtensionNumbersOfType };
                }
                break;
            default:
                Error(response, StatusCode.InvalidArgument, "The reflection request names no query.");
                break;
        }
        return response;
    }

    private static void Files(ServerReflectionResponse response, Google.Protobuf.Reflection.FileDescriptor? file, HashSet<string> sent, string notFound)
    {
        if (file is null)
        {
            Error(response, StatusCode.NotFound, notFound);
            return;
        }
        var files = new FileDescriptorResponse();
        foreach (var f in DescriptorIndex.WithDependencies(file))
        {
            // The asked-for file always goes out; its dependencies only once per stream.
            if (sent.Add(f.Name) || f == file)
            {
                files.FileDescriptorProto.Add(f.SerializedData);
            }
        }
        response.FileDescriptorResponse = files;
    }

    private static void Error(ServerReflectionResponse response, StatusCode code, string message) =>
        response.ErrorResponse = new ErrorResponse { ErrorCode = (int)code, ErrorMessage = message };
}

/// <summary>
/// <c>grpc.reflection.v1alpha</c>, which older tools still ask for. Its messages are wire-identical to v1,
/// so it re-reads each message as v1 and answers through the same code.
/// </summary>
internal sealed class ReflectionAlphaService(ReflectionService reflection)
{
    public async Task ServerReflectionInfo(
        IAsyncStreamReader<global::Grpc.Reflection.V1Alpha.ServerReflectionRequest> requestStream,
        IServerStreamWriter<global::Grpc.Reflection.V1Alpha.ServerReflectionResponse> responseStream,
        ServerCallContext context)
    {
        var sent = new HashSet<string>(StringComparer.Ordinal);
        var index = reflection.IndexFor(context);
        while (await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            var request = ServerReflectionRequest.Parser.ParseFrom(requestStream.Current.ToByteString());
            var answer = ReflectionService.Answer(index, request, sent);
            await responseStream.WriteAsync(global::Grpc.Reflection.V1Alpha.ServerReflectionResponse.Parser.ParseFrom(answer.ToByteString())).ConfigureAwait(false);
        }
    }
}
