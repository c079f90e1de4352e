using Chain.Common.V1;
using Chain.Policy.V1;
using Google.Protobuf;
using Ketenmesh.Grpc;
using Ketenmesh.Grpc.Client;
using Ketenmesh.Policy;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace Ketenmesh.SharingPolicy;

/// <summary>
/// <c>policy &lt;command&gt;</c> (behind <c>./mesh policy</c>): the admin API from a terminal, for privacy
/// officers. The token comes from <c>--token</c> or KETENMESH_TOKEN (locally: ./mesh token privacy-officer-1).
/// </summary>
public static class PolicyCommand
{
    private const string Usage = """
        usage: policy <command> [--address http://127.0.0.1:8082] [--token <officer token>]
          list [--partner <id>] [--purpose <purpose>]   grant versions
          show <grant-id>                               every version of one grant
          draft <grant.json>                            draft a version (protobuf JSON of chain.policy.v1.Grant)
          approve <version-hash>                        approve another officer's draft
          revoke <grant-id> <reason>                    revoke a grant (applies at the next publish)
          simulate <partner> <purpose> <method>         what the partner would receive
          publish                                       publish approved versions and revocations
        """;

    private static readonly ServiceDescriptor Admin = PolicyReflection.Descriptor.FindTypeByName<ServiceDescriptor>("SharingPolicyAdmin");

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var options = Options(args, out var positional);
        if (positional.Count == 0)
        {
            await error.WriteAsync(Usage);
            return 2;
        }
        var token = options.GetValueOrDefault("token") ?? Environment.GetEnvironmentVariable("KETENMESH_TOKEN");
        using var channel = GrpcChannel.ForAddress(options.GetValueOrDefault("address") ?? "http://127.0.0.1:8082");
        var client = new GrpcClient(channel);
        var call = new CallOptions(new Metadata { { "authorization", "Bearer " + token } }, DateTime.UtcNow.AddSeconds(30));
        var json = new JsonFormatter(JsonFormatter.Settings.Default.WithIndentation());
        try
        {
            IMessage answer = (positional[0], positional.Count) switch
            {
                ("list", 1) => await Call<ListGrantsRequest, ListGrantsResponse>(client, "ListGrants", new ListGrantsRequest
                {
                    PartnerId = options.GetValueOrDefault("partner") ?? "",
                    Purpose = options.TryGetValue("purpose", out var p) ? ParsePurpose(p) : Purpose.Unspecified,
                }, call),
                ("show", 2) => await Call<GetGrantRequest, GetGrantResponse>(client, "GetGrant", new GetGrantRequest { GrantId = positional[1] }, call),
                ("draft", 2) => await Call<DraftGrantRequest, DraftGrantResponse>(client, "DraftGrant",
                    new DraftGrantRequest { Grant = JsonParser.Default.Parse<Grant>(await File.ReadAllTextAsync(positional[1])) }, call),
                ("approve", 2) => await Call<ApproveGrantRequest, ApproveGrantResponse>(client, "ApproveGrant", new ApproveGrantRequest { VersionHash = positional[1] }, call),
                ("revoke", 3) => await Call<RevokeGrantRequest, RevokeGrantResponse>(client, "RevokeGrant", new RevokeGrantRequest { GrantId = positional[1], Reason = positional[2] }, call),
                ("simulate", 4) => await Call<SimulateAccessRequest, SimulateAccessResponse>(client, "SimulateAccess",
                    new SimulateAccessRequest { PartnerId = positional[1], Purpose = ParsePurpose(positional[2]), Method = positional[3] }, call),
                ("publish", 1) => await Call<PublishPolicyRequest, PublishPolicyResponse>(client, "PublishPolicy", new PublishPolicyRequest(), call),
                _ => throw new ArgumentException("unknown command or wrong number of arguments"),
            };
            await output.WriteLineAsync(json.Format(answer));
            return 0;
        }
        catch (ArgumentException e)
        {
            await error.WriteLineAsync(e.Message);
            await error.WriteAsync(Usage);
            return 2;
        }
        catch (RpcException e)
        {
            await error.WriteLineAsync($"{e.StatusCode}: {e.Status.Detail}");
            foreach (var violation in e.GetRpcStatus()?.GetDetail<Google.Rpc.BadRequest>()?.FieldViolations ?? [])
            {
                await error.WriteLineAsync($"  {violation.Field}: {violation.Description}");
            }
            return 1;
        }
    }

    private static async Task<TResponse> Call<TRequest, TResponse>(GrpcClient client, string method, TRequest request, CallOptions options)
        where TRequest : class, IMessage<TRequest>, new()
        where TResponse : class, IMessage<TResponse>, new() =>
        await client.UnaryCall(Method<TRequest, TResponse>.From(Admin.FindMethodByName(method)), request, options);

    private static Purpose ParsePurpose(string text) =>
        PurposeNames.TryParse(text, out var purpose) ? purpose : throw new ArgumentException($"'{text}' is not a chain purpose.");

    private static Dictionary<string, string> Options(string[] args, out List<string> positional)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        positional = [];
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length)
            {
                options[args[i][2..]] = args[++i];
            }
            else
            {
                positional.Add(args[i]);
            }
        }
        return options;
    }
}
