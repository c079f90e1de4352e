using Grpc.Core;

namespace Ketenmesh.OfficerConsole;

/// <summary>A refusal from a service the console calls, in words for the person signed in: what each page words alike.</summary>
public static class PlainWords
{
    /// <param name="service">The service as the person knows it, e.g. "the sharing-policy service".</param>
    /// <param name="specific">The page's own words for this refusal, when it has them.</param>
    public static string Of(RpcException refusal, string service, string? specific = null) => specific ?? refusal.StatusCode switch
    {
        StatusCode.Unauthenticated => "Your session has ended. Sign in again.",
        StatusCode.Unavailable or StatusCode.DeadlineExceeded => $"{Capital(service)} cannot be reached right now. Try again in a moment.",
        _ => $"Something went wrong in {service}. Nothing was changed.",
    };

    static string Capital(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
