using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ketenmesh.Hosting;

/// <summary>
/// What a request that broke something hears, on every port of every component and in every profile: a bare
/// error (a gRPC status, or a JSON OAuth-style error), never a developer exception page with its stack trace,
/// source paths and the request's own headers echoed back. The local profile runs as Development for its
/// defaults; this sits inside the page ASP.NET Core adds there, so the page never sees an exception.
/// </summary>
public static class LastResortErrors
{
    public static IApplicationBuilder UseLastResortErrors(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(LastResortErrors));
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                // The type and the path only: an exception's message may quote what the request carried.
                logger.LogWarning("A request to {Path} failed with {Exception}; it got a bare error.", context.Request.Path.Value, e.GetType().Name);
                await AnswerAsync(context, clientFault: IsClientFault(e));
            }
        });
        // WebApplication would add authentication and authorization ahead of every middleware of ours, so what
        // they throw (OpenIddict reading a form with NUL in it, say) would miss this; added here, they come after.
        if (app.ApplicationServices.GetService<IAuthenticationSchemeProvider>() is not null)
        {
            app.UseAuthentication();
        }
        if (app.ApplicationServices.GetService<IAuthorizationHandlerProvider>() is not null)
        {
            app.UseAuthorization();
        }
        return app;
    }

    // Bodies that cannot be read (a form value with NUL, a malformed or oversized body) are the caller's fault.
    private static bool IsClientFault(Exception e) =>
        e is InvalidDataException or BadHttpRequestException || e.InnerException is InvalidDataException or BadHttpRequestException;

    private static async Task AnswerAsync(HttpContext context, bool clientFault)
    {
        var response = context.Response;
        response.Clear();
        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true)
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
            // Trailers-only: the status in the headers, as gRPC answers a call it ends before any message.
            response.Headers["grpc-status"] = clientFault ? "3" : "13";
            response.Headers["grpc-message"] = clientFault ? "The request could not be read." : "The call failed.";
            return;
        }
        response.StatusCode = clientFault ? StatusCodes.Status400BadRequest : StatusCodes.Status500InternalServerError;
        response.ContentType = "application/json";
        await response.WriteAsync(clientFault
            ? """{"error":"invalid_request","error_description":"The request could not be read."}"""
            : """{"error":"server_error"}""");
    }
}
