using System.Collections;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Ketenmesh.Gateway.Tests.Support;
using Ketenmesh.Policy;

namespace Ketenmesh.Gateway.Tests;

/// <summary>
/// Every string field the real services read (signal intake, risk assessment, victim registry), set in turn to
/// values no honest client sends: ids, page and resume tokens, keys and free text. Whatever the service makes
/// of them, the answer is a status that names the problem, never UNKNOWN or INTERNAL, and never a stack trace.
/// </summary>
public sealed class StringFuzzTests : IAsyncLifetime
{
    private static readonly string[] Values =
    [
        "", "1", "-1", "0", "\u0000", "a\u0000b", new string('9', 4096), "reg-00000000000000000000000000000000", "sig-zzzz",
        "%00/../x", "\u202E\u00e9\u2603\U0001F600", "AAAA====", "MTIzfA", "9223372036854775808", " ", "\r\n",
    ];

    private static readonly HashSet<int> Unexplained = [(int)StatusCode.Unknown, (int)StatusCode.Internal, (int)StatusCode.DataLoss];

    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(withChainFlow: true, settings: new()
    {
        ["Gateway:RateLimitPerSecond"] = "1000000",
        ["Gateway:RateLimitBurst"] = "1000000",
    });

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task No_string_a_partner_can_send_makes_a_service_answer_unknown_or_internal()
    {
        var services = new[] { "chain.signals.v1.", "chain.risk.v1.", "chain.registry.v1." };
        var rules = SeedFile.Rules().Where(r => services.Any(s => r.Method.StartsWith(s, StringComparison.Ordinal)))
            .GroupBy(r => r.Method).Select(g => g.First()).ToList();
        var problems = new List<string>();
        var calls = 0;
        foreach (var rule in rules)
        {
            var method = MethodCatalog.Chain.Find(rule.Method)!;
            var sample = method.InputType.Parser.ParseFrom(SampleMessages.Full(method.InputType));
            var metadata = _mesh.As(rule.PartnerId, rule.Purpose).ToList();
            if (method.IsServerStreaming)
            {
                // A watch that accepts the request runs until its deadline; that ends it with a status too.
                metadata.Add(new("grpc-timeout", "300m"));
            }
            foreach (var path in StringFields(method.InputType, []))
            {
                foreach (var value in Values)
                {
                    var request = method.InputType.Parser.ParseFrom(sample.ToByteArray());
                    Set(request, path, value);
                    var result = await _mesh.Raw.CallAsync(rule.Method, [request.ToByteArray()], metadata);
                    calls++;
                    if (result.Status < 0 || Unexplained.Contains(result.Status)
                        || result.Message.Contains("Exception", StringComparison.Ordinal) || result.Message.Contains("   at ", StringComparison.Ordinal))
                    {
                        problems.Add($"{rule.Method} {string.Join('.', path.Select(f => f.Name))}={Printable(value)}: {result.Status} {result.Message}");
                    }
                }
            }
        }

        Assert.Empty(problems);
        Assert.True(rules.Count >= 15, $"only {rules.Count} methods were fuzzed");
        Assert.True(calls >= 500, $"only {calls} calls were made");
    }

    /// <summary>Paths to every string field, through singular nested messages (repeated strings are set as a one-item list).</summary>
    private static IEnumerable<FieldDescriptor[]> StringFields(MessageDescriptor type, FieldDescriptor[] prefix)
    {
        foreach (var field in type.Fields.InFieldNumberOrder().Where(f => !f.IsMap))
        {
            if (field.FieldType == FieldType.String)
            {
                yield return [.. prefix, field];
            }
            else if (field.FieldType == FieldType.Message && !field.IsRepeated && prefix.Length < 3 && !IsWellKnown(field.MessageType))
            {
                foreach (var nested in StringFields(field.MessageType, [.. prefix, field]))
                {
                    yield return nested;
                }
            }
        }
    }

    private static bool IsWellKnown(MessageDescriptor type) => type.File.Package == "google.protobuf";

    private static void Set(IMessage message, FieldDescriptor[] path, string value)
    {
        var container = message;
        foreach (var field in path[..^1])
        {
            if (field.Accessor.GetValue(container) is not IMessage child)
            {
                child = (IMessage)Activator.CreateInstance(field.MessageType.ClrType)!;
                field.Accessor.SetValue(container, child);
            }
            container = child;
        }
        var last = path[^1];
        if (last.IsRepeated)
        {
            var list = (IList)last.Accessor.GetValue(container);
            list.Clear();
            list.Add(value);
        }
        else
        {
            last.Accessor.SetValue(container, value);
        }
    }

    private static string Printable(string value) =>
        value.Length > 20 ? $"<{value.Length} chars>" : string.Concat(value.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}
