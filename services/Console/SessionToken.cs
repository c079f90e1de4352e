using Grpc.Core;
using Microsoft.AspNetCore.Authentication;

namespace Ketenmesh.OfficerConsole;

/// <summary>
/// The signed-in person's own access token, kept in their session, as call options: the console calls the policy
/// service and the gateway with it (an officer's, or the Rapporteur's researcher's) and holds no credential of its own.
/// </summary>
public sealed class SessionToken(IHttpContextAccessor http)
{
    /// <param name="purpose">The purpose declared to the gateway (x-purpose), for a partner call; none for the policy service and the audit trail.</param>
    public async Task<CallOptions> CallOptionsAsync(TimeSpan? deadline = null, string? purpose = null)
    {
        var context = http.HttpContext ?? throw new InvalidOperationException("The console calls on behalf of a signed-in person only, within their request.");
        var token = await context.GetTokenAsync("access_token")
            ?? throw new InvalidOperationException("The session holds no access token.");
        var headers = new Metadata { { "authorization", "Bearer " + token } };
        if (purpose is not null)
        {
            headers.Add("x-purpose", purpose);
        }
        return new CallOptions(headers, DateTime.UtcNow + (deadline ?? TimeSpan.FromSeconds(15)), context.RequestAborted);
    }
}
