using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Grpc.Core;
using Ketenmesh.Gateway.Access;
using Ketenmesh.Gateway.Proxy;
using Ketenmesh.Gateway.Proxy.Wire;
using Ketenmesh.Security;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Ketenmesh.Gateway.Forwarding;

/// <summary>
/// What crosses YARP's hop, both ways. Up: the caller's custom metadata, and in place of its token and
/// any x-chain-* claims the transaction token the gateway mints for this call. Down: every message
/// minimised (<see cref="MinimisedResponse"/>), and the status the call really ended with.
/// </summary>
internal sealed class GatewayTransforms(IDecisionAudit audit, TimeProvider clock, IOptions<GatewayOptions> options) : ITransformProvider
{
    private static readonly MediaTypeHeaderValue GrpcContentType = new(GrpcHeaders.ContentType);
    private readonly int _maxLength = options.Value.MaxMessageSize;

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        // Nothing passes by default: the request transform copies what may (TrustedHeaders), and the
        // trailers transform writes the status.
        context.CopyRequestHeaders = false;
        context.CopyResponseTrailers = false;
        context.UseDefaultForwarders = false;
        context.AddRequestTransform(Request);
        context.AddResponseTransform(ResponseAsync);
        context.AddResponseTrailersTransform(Trailers);
    }

    private ValueTask Request(RequestTransformContext context)
    {
        var call = context.HttpContext.Call();
        // What the service believes, and all it believes: signed for this service and this method, for seconds.
        TrustedHeaders.Apply(context.HttpContext.Request.Headers, context.ProxyRequest, call.TransactionToken!, call.TraceParent);
        // gRPC has no query string: the service is asked the method that was decided, and nothing beside it.
        context.Query.Collection.Clear();
        if (context.ProxyRequest.Content is { } content)
        {
            content.Headers.ContentType = GrpcContentType;
        }
        if (call.Timeout is { } timeout)
        {
            // The service gets what is left of the deadline, not all of it again.
            context.ProxyRequest.Headers.TryAddWithoutValidation(GrpcHeaders.Timeout, GrpcTimeout.Format(timeout - clock.GetElapsedTime(call.ArrivedTimestamp)));
        }
        return ValueTask.CompletedTask;
    }

    private async ValueTask ResponseAsync(ResponseTransformContext context)
    {
        if (context.ProxyResponse is not { } response)
        {
            // The service was not reached: the call boundary answers with a status.
            return;
        }
        var http = context.HttpContext;
        var call = http.Call();
        if (http.Response.Headers.Keys.Any(n => !TrustedHeaders.MayLeave(n)))
        {
            foreach (var name in http.Response.Headers.Keys.Where(n => !TrustedHeaders.MayLeave(n)).ToList())
            {
                http.Response.Headers.Remove(name);
            }
        }
        if (response.StatusCode != HttpStatusCode.OK)
        {
            context.SuppressResponseBody = true;
            http.Response.Clear();
            GatewayPipeline.Refuse(http, new Status(HttpStatusMapping.ToStatusCode(response.StatusCode), $"The service answered HTTP {(int)response.StatusCode} instead of gRPC."));
            return;
        }
        if (response.Headers.Contains(GrpcHeaders.Status))
        {
            // Trailers-only: no message to minimise; its headers carry the status (and rich error details).
            return;
        }
        response.Content = new MinimisedResponse(response.Content, call.Verdict!.Access!.ResponseMask, _maxLength, call, audit, clock);
        if (call.Descriptor!.IsServerStreaming)
        {
            // A stream's caller may wait long for its first message (a watch, hours): give it the headers now.
            await http.Response.StartAsync(http.RequestAborted);
            await http.Response.Body.FlushAsync(http.RequestAborted);
        }
    }

    private ValueTask Trailers(ResponseTrailersTransformContext context)
    {
        var http = context.HttpContext;
        var call = http.Call();
        var upstream = context.ProxyResponse.TrailingHeaders;
        var status = call.Ending;
        if (status is null && !upstream.Contains(GrpcHeaders.Status) && !context.ProxyResponse.Headers.Contains(GrpcHeaders.Status))
        {
            status = call.CutShort() ?? new Status(StatusCode.Internal, "The service ended the call without a status.");
        }
        if (status is { } ending)
        {
            // The gateway decides how this call ends; nothing of the service's trailers is kept.
            WriteStatus(http, ending);
            return ValueTask.CompletedTask;
        }
        foreach (var (name, values) in upstream)
        {
            if (TrustedHeaders.MayLeave(name))
            {
                foreach (var value in values)
                {
                    http.Response.AppendTrailer(name, value);
                }
            }
        }
        return ValueTask.CompletedTask;
    }

    private static void WriteStatus(HttpContext http, Status status)
    {
        if (!http.Response.HasStarted)
        {
            GatewayPipeline.Refuse(http, status);
            return;
        }
        var trailers = http.Features.Get<IHttpResponseTrailersFeature>()!.Trailers;
        trailers[GrpcHeaders.Status] = ((int)status.StatusCode).ToString(CultureInfo.InvariantCulture);
        if (!string.IsNullOrEmpty(status.Detail))
        {
            trailers[GrpcHeaders.Message] = StatusMessageEncoding.Encode(status.Detail);
        }
    }
}
