using Chain.Common.V1;
using Chain.Policy.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Ketenmesh.Policy;

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
        var client = new SharingPolicyAdmin.SharingPolicyAdminClient(channel);
        var call = new CallOptions(new Metadata { { "authorization", "Bearer " + token } }, DateTime.UtcNow.AddSeconds(30));
        var json = new JsonFormatter(JsonFormatter.Settings.Default.WithIndentation());
        try
        {
            IMessage answer = (positional[0], positional.Count) switch
            {
                ("list", 1) => await client.ListGrantsAsync(new ListGrantsRequest
                {
                    PartnerId = options.GetValueOrDefault("partner") ?? "",
                    Purpose = options.TryGetValue("purpose", out var p) ? ParsePurpose(p) : Purpose.Unspecified,
                }, call),
                ("show", 2) => await client.GetGrantAsync(new GetGrantRequest { GrantId = positional[1] }, call),
                ("draft", 2) => await client.DraftGrantAsync(new DraftGrantRequest { Grant = JsonParser.Default.Parse<Grant>(await File.ReadAllTextAsync(positional[1])) }, call),
                ("approve", 2) => await client.ApproveGrantAsync(new ApproveGrantRequest { VersionHash = positional[1] }, call),
                ("revoke", 3) => await client.RevokeGrantAsync(new RevokeGrantRequest { GrantId = positional[1], Reason = positional[2] }, call),
                ("simulate", 4) => await client.SimulateAccessAsync(new SimulateAccessRequest { PartnerId = positional[1], Purpose = ParsePurpose(positional[2]), Method = positional[3] }, call),
                ("publish", 1) => await client.PublishPolicyAsync(new PublishPolicyRequest(), call),
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
