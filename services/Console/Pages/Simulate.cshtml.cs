using Chain.Common.V1;
using Chain.Policy.V1;
using Google.Protobuf;
using Grpc.Core;
using Ketenmesh.OfficerConsole.Grants;
using Ketenmesh.Policy;
using Ketenmesh.Policy.Masks;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ketenmesh.OfficerConsole.Pages;

/// <summary>
/// SimulateAccess for a partner, purpose and method: the decision and reason as the policy service gives them,
/// and a sample response whole and cut by the grant's mask (Ketenmesh.Policy's masks, as the gateway applies them).
/// </summary>
public sealed class SimulateModel(PolicyAdmin policy) : PageModel
{
    static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithIndentation().WithFormatDefaultValues(false));

    public IReadOnlyList<string> Methods => ChainMethods.Names;

    public string Partner { get; private set; } = "";

    public Purpose Purpose { get; private set; } = Purpose.Signalling;

    public string Method { get; private set; } = "";

    public string Candidate { get; private set; } = "";

    public SimulateAccessResponse? Result { get; private set; }

    public string WholeJson { get; private set; } = "";

    public string? PartnerJson { get; private set; }

    public IReadOnlyList<FieldNode> Fields { get; private set; } = [];

    public string? Problem { get; private set; }

    public async Task OnGetAsync(string? partner, int? purpose, string? method, string? candidate)
    {
        Partner = partner?.Trim() ?? "";
        Purpose = purpose is { } p && Enum.IsDefined(typeof(Purpose), p) && p != 0 ? (Purpose)p : Purpose.Signalling;
        Method = method ?? "";
        Candidate = candidate?.Trim() ?? "";
        if (Partner.Length == 0 || MethodCatalog.Chain.Find(Method) is not { } descriptor)
        {
            return;
        }

        try
        {
            Result = await policy.Client.SimulateAccessAsync(
                new SimulateAccessRequest { PartnerId = Partner, Purpose = Purpose, Method = Method, CandidateVersionHash = Candidate },
                await policy.AsOfficerAsync());
        }
        catch (RpcException refusal)
        {
            Problem = PolicyAdmin.PlainWords(refusal);
            return;
        }

        var sample = SampleResponse.For(descriptor.OutputType);
        WholeJson = Json.Format(sample);
        Fields = FieldTree.Flatten(FieldTree.Of(descriptor.OutputType, ProtoComments.Empty)).ToList();
        if (Result.Decision == AccessDecision.Allowed)
        {
            var cut = ResponseMask.Compile(descriptor.OutputType, Result.KeptFields).Apply(sample.ToByteArray());
            PartnerJson = Json.Format(descriptor.OutputType.Parser.ParseFrom(cut));
        }
    }
}
