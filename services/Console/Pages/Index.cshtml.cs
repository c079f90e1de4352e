using Chain.Common.V1;
using Chain.Policy.V1;
using Grpc.Core;
using Ketenmesh.OfficerConsole.Grants;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ketenmesh.OfficerConsole.Pages;

/// <summary>Every grant version, by partner and by purpose (filters as ListGrants takes them).</summary>
public sealed class IndexModel(PolicyAdmin policy) : PageModel
{
    public string Partner { get; private set; } = "";

    public Purpose Purpose { get; private set; }

    public IReadOnlyList<GrantVersion> Versions { get; private set; } = [];

    public string? Problem { get; private set; }

    public async Task OnGetAsync(string? partner, int? purpose)
    {
        Partner = partner?.Trim() ?? "";
        Purpose = purpose is { } p && Enum.IsDefined(typeof(Purpose), p) ? (Purpose)p : Purpose.Unspecified;
        try
        {
            Versions = await policy.ListAsync(Partner, Purpose);
        }
        catch (RpcException refusal)
        {
            Problem = PolicyAdmin.PlainWords(refusal);
        }
    }
}
