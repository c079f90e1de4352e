using Chain.Policy.V1;
using Grpc.Core;
using Ketenmesh.OfficerConsole.Grants;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ketenmesh.OfficerConsole.Pages;

/// <summary>A grant's versions with whose four eyes, its lifecycle (approve, publish, revoke) and a diff of any two versions.</summary>
public sealed class GrantModel(PolicyAdmin policy) : PageModel
{
    /// <summary>What the policy service answers to publishing when nothing approved is waiting: the officer's own draft is not approved.</summary>
    public const string NeedsSecondOfficer = "Your draft needs a second officer's approval before it can be published.";

    [BindProperty(SupportsGet = true)]
    public string Id { get; set; } = "";

    [BindProperty(SupportsGet = true)]
    public string? From { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? To { get; set; }

    public IReadOnlyList<GrantVersion> Versions { get; private set; } = [];

    public IReadOnlyList<DiffLine>? Diff { get; private set; }

    public string? Message { get; private set; }

    public string? Problem { get; private set; }

    public Task OnGetAsync() => LoadAsync();

    public async Task OnPostApproveAsync(string version)
    {
        await Do(async () =>
        {
            var approved = await policy.Client.ApproveGrantAsync(new ApproveGrantRequest { VersionHash = version }, await policy.AsOfficerAsync());
            return $"Version {GrantText.Short(version)} is approved by {approved.Version.ApprovedBy} (drafted by {approved.Version.DraftedBy}). Publish it to let the gateway apply it.";
        });
    }

    /// <summary>Publishes the policy: from a version's row, or (no version) from the page's own button, as after a revocation.</summary>
    public async Task OnPostPublishAsync(string? version)
    {
        await LoadAsync();
        var chosen = Versions.FirstOrDefault(v => v.VersionHash == version);
        if (chosen?.State == GrantState.Draft)
        {
            // PublishPolicy publishes what is approved; a draft is not, and publishing would quietly leave it out.
            Problem = NeedsSecondOfficer;
            return;
        }

        await Do(async () =>
        {
            var snapshot = (await policy.Client.PublishPolicyAsync(new PublishPolicyRequest(), await policy.AsOfficerAsync())).Snapshot;
            return $"Published: policy revision {snapshot.Revision}. The gateway applies it within 2 seconds.";
        });
    }

    public async Task OnPostRevokeAsync(string reason)
    {
        await Do(async () =>
        {
            await policy.Client.RevokeGrantAsync(new RevokeGrantRequest { GrantId = Id, Reason = reason ?? "" }, await policy.AsOfficerAsync());
            return $"Grant {Id} is revoked. Publish the policy to withdraw it from the gateway: until then the gateway still applies it.";
        });
    }

    async Task Do(Func<Task<string>> action)
    {
        try
        {
            Message = await action();
        }
        catch (RpcException refusal)
        {
            Problem = PolicyAdmin.PlainWords(refusal);
        }

        await LoadAsync();
    }

    async Task LoadAsync()
    {
        try
        {
            // Oldest first, as the page says.
            Versions = await policy.HistoryAsync(Id);
        }
        catch (RpcException refusal)
        {
            Problem ??= PolicyAdmin.PlainWords(refusal);
            return;
        }

        if (From is not null && To is not null
            && Versions.FirstOrDefault(v => v.VersionHash == From) is { } older && Versions.FirstOrDefault(v => v.VersionHash == To) is { } newer)
        {
            Diff = LineDiff.Of(GrantText.ToJson(older.Grant), GrantText.ToJson(newer.Grant));
        }
    }
}
