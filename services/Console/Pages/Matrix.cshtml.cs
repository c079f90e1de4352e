using Chain.Common.V1;
using Chain.Policy.V1;
using Grpc.Core;
using Ketenmesh.OfficerConsole.Grants;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ketenmesh.OfficerConsole.Pages;

/// <summary>Partner × purpose: the methods each published grant opens.</summary>
public sealed class MatrixModel(PolicyAdmin policy) : PageModel
{
    IReadOnlyList<GrantVersion> _published = [];

    public IReadOnlyList<string> Partners { get; private set; } = [];

    public string? Problem { get; private set; }

    public IReadOnlyList<MethodRule> Open(string partner, Purpose purpose) =>
        _published.Where(v => v.Grant.PartnerId == partner && v.Grant.Purpose == purpose)
            .SelectMany(v => v.Grant.Methods).OrderBy(m => m.Method, StringComparer.Ordinal).ToList();

    public async Task OnGetAsync()
    {
        try
        {
            _published = (await policy.ListAsync()).Where(v => v.State == GrantState.Published).ToList();
            Partners = _published.Select(v => v.Grant.PartnerId).Distinct().Order(StringComparer.Ordinal).ToList();
        }
        catch (RpcException refusal)
        {
            Problem = PolicyAdmin.PlainWords(refusal);
        }
    }
}
