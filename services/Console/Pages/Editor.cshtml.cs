using Chain.Common.V1;
using Chain.Policy.V1;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Ketenmesh.OfficerConsole.Grants;
using Ketenmesh.Policy;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ketenmesh.OfficerConsole.Pages;

/// <summary>
/// The grant editor: one method at a time, its response message's fields as a tree of checkboxes built from
/// the proto descriptors, with the protos' comments; the grant's other methods are kept unless the officer
/// unticks them, which is how a method leaves a grant. Saving drafts a new version under the signed-in
/// officer; a second officer approves it.
/// </summary>
public sealed class EditorModel(PolicyAdmin policy, ProtoComments comments) : PageModel
{
    public IReadOnlyList<string> Methods => ChainMethods.Names;

    [BindProperty(SupportsGet = true, Name = "grant")]
    public string GrantId { get; set; } = "";

    [BindProperty(SupportsGet = true)]
    public string Method { get; set; } = "";

    [BindProperty]
    public string PartnerId { get; set; } = "";

    [BindProperty]
    public Purpose Purpose { get; set; } = Purpose.Signalling;

    [BindProperty]
    public string LegalBasis { get; set; } = "";

    [BindProperty]
    public string CovenantReference { get; set; } = "";

    [BindProperty]
    public DateTime ValidFrom { get; set; } = DateTime.UtcNow.Date;

    [BindProperty]
    public DateTime? ValidUntil { get; set; }

    [BindProperty]
    public bool Confidential { get; set; }

    [BindProperty]
    public bool RequireCertificateBinding { get; set; }

    [BindProperty]
    public List<string> RequiredRequestFields { get; set; } = [];

    [BindProperty]
    public List<string> Fields { get; set; } = [];

    /// <summary>The boxes of the response tree the page showed ticked: what the officer's ticks are compared with.</summary>
    [BindProperty]
    public List<string> ShownFields { get; set; } = [];

    /// <summary>The grant's other methods the page showed, each with a Keep box.</summary>
    [BindProperty]
    public List<string> ShownMethods { get; set; } = [];

    /// <summary>The shown methods the officer keeps in the new version (all of them, until one is unticked).</summary>
    [BindProperty]
    public List<string> KeepMethods { get; set; } = [];

    /// <summary>Whether a Keep box is ticked: as posted after a refused draft, else ticked.</summary>
    public bool Keeps(string method) => !HttpMethods.IsPost(Request.Method) || KeepMethods.Contains(method);

    public IReadOnlyList<string> Mask { get; private set; } = [];

    public IReadOnlyList<MethodRule> OtherRules { get; private set; } = [];

    public IReadOnlyList<FieldNode> ResponseFields { get; private set; } = [];

    public IReadOnlyList<FieldNode> RequestFields { get; private set; } = [];

    public string ResponseType { get; private set; } = "";

    public string? Message { get; private set; }

    public string? Problem { get; private set; }

    public IReadOnlyList<string> Violations { get; private set; } = [];

    Grant? _existing;

    /// <summary>A field of chain.policy.v1.Grant as its proto comment describes it.</summary>
    public string Describe(string grantField) => comments.Of($"{Grant.Descriptor.FullName}.{grantField}");

    public async Task OnGetAsync()
    {
        await LoadExistingAsync();
        if (_existing is { } grant)
        {
            PartnerId = grant.PartnerId;
            Purpose = grant.Purpose;
            LegalBasis = grant.LegalBasis;
            CovenantReference = grant.CovenantReference;
            ValidFrom = grant.ValidFrom?.ToDateTime() ?? ValidFrom;
            ValidUntil = grant.ValidUntil?.ToDateTime();
            Confidential = grant.Confidential;
            RequireCertificateBinding = grant.RequireCertificateBinding;
            if (string.IsNullOrEmpty(Method) && grant.Methods.Count > 0)
            {
                Method = grant.Methods[0].Method;
            }

            if (grant.Methods.FirstOrDefault(m => m.Method == Method) is { } rule)
            {
                Mask = rule.ResponseMask?.Paths.ToList() ?? [];
                RequiredRequestFields = [.. rule.RequiredRequestFields];
            }
        }

        Describe();
    }

    public async Task OnPostAsync()
    {
        await LoadExistingAsync();
        // An empty text field binds as null (MVC's ConvertEmptyStringToNull); a grant's strings are empty instead.
        Describe();
        Mask = FieldTree.ToMask(Fields, ShownFields, ResponseFields);
        if (MethodCatalog.Chain.Find(Method) is null)
        {
            Problem = "Choose one of the chain's methods.";
            return;
        }

        var grant = new Grant
        {
            GrantId = GrantId?.Trim() ?? "",
            PartnerId = PartnerId?.Trim() ?? "",
            Purpose = Purpose,
            LegalBasis = LegalBasis?.Trim() ?? "",
            CovenantReference = CovenantReference?.Trim() ?? "",
            ValidFrom = Timestamp.FromDateTime(DateTime.SpecifyKind(ValidFrom.Date, DateTimeKind.Utc)),
            ValidUntil = ValidUntil is { } until ? Timestamp.FromDateTime(DateTime.SpecifyKind(until.Date, DateTimeKind.Utc)) : null,
            Confidential = Confidential,
            RequireCertificateBinding = RequireCertificateBinding,
        };
        var edited = new MethodRule { Method = Method, ResponseMask = new FieldMask() };
        edited.ResponseMask.Paths.AddRange(Mask);
        edited.RequiredRequestFields.AddRange(RequiredRequestFields.Where(f => RequestFields.Any(r => r.Path == f)));
        // The edited method keeps its place among the grant's methods, so a version diff shows only what changed;
        // another method the officer was shown and unticked leaves the grant. One drafted by someone else since the
        // page was shown stays: nobody here decided about it.
        grant.Methods.AddRange((_existing?.Methods ?? [])
            .Where(m => m.Method == Method || !ShownMethods.Contains(m.Method) || KeepMethods.Contains(m.Method))
            .Select(m => m.Method == Method ? edited : m));
        if (!grant.Methods.Contains(edited))
        {
            grant.Methods.Add(edited);
        }
        try
        {
            var drafted = (await policy.Client.DraftGrantAsync(new DraftGrantRequest { Grant = grant }, await policy.AsOfficerAsync())).Version;
            Message = $"Drafted version <code>{GrantText.Short(drafted.VersionHash)}</code> of <a href=\"/Grant?id={Uri.EscapeDataString(drafted.Grant.GrantId)}\">{System.Net.WebUtility.HtmlEncode(drafted.Grant.GrantId)}</a> as {System.Net.WebUtility.HtmlEncode(drafted.DraftedBy)}. A second privacy officer must approve it before it can be published.";
        }
        catch (RpcException refusal)
        {
            Problem = refusal.StatusCode == Grpc.Core.StatusCode.InvalidArgument ? "The grant cannot be drafted like this:" : PolicyAdmin.PlainWords(refusal);
            Violations = refusal.GetRpcStatus()?.GetDetail<BadRequest>()?.FieldViolations.Select(v => GrantText.Violation(grant, v.Field, v.Description)).ToList() ?? [refusal.Status.Detail];
        }
    }

    async Task LoadExistingAsync()
    {
        if (string.IsNullOrWhiteSpace(GrantId))
        {
            return;
        }

        try
        {
            var versions = await policy.HistoryAsync(GrantId.Trim());
            // The newest version, drafts included: a new draft starts from where the grant's text stands.
            _existing = versions.LastOrDefault()?.Grant;
        }
        catch (RpcException refusal) when (refusal.StatusCode == Grpc.Core.StatusCode.NotFound)
        {
            // A new grant id: nothing to start from.
        }
    }

    void Describe()
    {
        if (string.IsNullOrEmpty(Method))
        {
            Method = Methods[0];
        }

        OtherRules = _existing?.Methods.Where(m => m.Method != Method).ToList() ?? [];
        if (MethodCatalog.Chain.Find(Method) is { } method)
        {
            ResponseFields = FieldTree.Of(method.OutputType, comments);
            RequestFields = FieldTree.Of(method.InputType, comments).Select(f => f with { Children = [] }).ToList();
            ResponseType = $"Response: {method.OutputType.FullName}. {comments.Of(MethodCatalog.NameOf(method))}";
        }
    }
}
