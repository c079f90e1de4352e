using System.Diagnostics;
using Chain.Common.V1;
using Chain.Policy.V1;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ketenmesh.Audit;
using Ketenmesh.Gateway.Tests.Support;
using Ketenmesh.Policy;
using Xunit.Abstractions;

namespace Ketenmesh.Gateway.Tests;

/// <summary>
/// Every method of the catalog, sent random encodings of its request through a real gateway to a
/// service that keeps what it received: the subject on record, the precondition verdict and what the
/// service saw must all be what protobuf reads from the bytes the partner sent (issue 11, finding 1).
/// A fixed seed and a few hundred cases by default; KETENMESH_FUZZ_SEED and KETENMESH_FUZZ_CASES make
/// another or a longer run (docs/security.md lists one).
/// </summary>
public sealed class CanonicalRequestPropertyTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Partner = "police";
    private const string Purpose = "criminal_investigation";
    private static readonly string[] SubjectFields = ["registration_id", "signal_id", "return_case_id", "placement_id", "assessment_id"];

    private readonly List<MethodDescriptor> _methods = MethodCatalog.Chain.Methods.OrderBy(MethodCatalog.NameOf, StringComparer.Ordinal).ToList();
    private readonly Dictionary<MethodDescriptor, FieldDescriptor?> _required = [];
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync()
    {
        // One grant for every method, most with a precondition on one request field (of every kind the
        // contracts have), so each call is decided on both its subject and a precondition.
        for (var i = 0; i < _methods.Count; i++)
        {
            var fields = _methods[i].InputType.Fields.InFieldNumberOrder();
            _required[_methods[i]] = i % 3 == 2 || fields.Count == 0 ? null
                : _methods[i].InputType.FindFieldByName("consent_id") ?? fields[i % fields.Count];
        }
        _mesh = await GatewayMesh.StartAsync(Policy(), allToContractUpstream: true);
    }

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task Audit_preconditions_and_service_see_the_request_as_protobuf_parses_it_for_random_encodings_of_every_method()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("KETENMESH_FUZZ_SEED"), out var s) ? s : 20261203;
        var cases = int.TryParse(Environment.GetEnvironmentVariable("KETENMESH_FUZZ_CASES"), out var c) ? c : 300;
        var random = new Random(seed);
        var fuzz = new RequestFuzz(random);
        var problems = new List<string>();
        var outcomes = new Dictionary<StatusCode, int>();
        var cutStreams = new List<(string Case, List<byte[]> Passed)>();
        long sequence = 0;
        var clock = Stopwatch.StartNew();

        for (var i = 0; i < cases; i++)
        {
            var method = _methods[i % _methods.Count];
            var name = MethodCatalog.NameOf(method);
            var testCase = $"case-{i}";
            var required = _required[method];
            var sent = Enumerable.Range(0, method.IsClientStreaming ? random.Next(1, 4) : 1).Select(_ => fuzz.Message(method.InputType, required)).ToList();
            var encoding = random.Next(5) == 0 ? RequestEncoding.Gzip : RequestEncoding.Plain;

            // What protobuf reads from each message sent, and so what must happen to the call.
            var passed = new List<byte[]>();
            (StatusCode Code, string? Subject)? refusal = null;
            foreach (var message in sent)
            {
                if (Parse(method.InputType, message) is not { } canonical)
                {
                    refusal = (StatusCode.InvalidArgument, null);
                    break;
                }
                if (required is not null && !Carries(canonical, required))
                {
                    refusal = (StatusCode.PermissionDenied, method.IsClientStreaming ? null : SubjectOf(method.InputType, canonical));
                    break;
                }
                passed.Add(canonical);
            }

            var metadata = _mesh.As(Partner, Purpose);
            metadata["x-test-case"] = testCase;
            var result = await _mesh.Raw.CallAsync(name, sent, metadata, encoding: encoding);
            var all = await _mesh.AuditAfterAsync(sequence);
            sequence = all.Count > 0 ? all[^1].Sequence : sequence;
            // The call's own decisions: an answer adds a record per person it names other than the call's subject.
            var records = all.Where(r => r.Entry.Reason != Ketenmesh.Gateway.Forwarding.MinimisedResponse.PersonFound).ToList();
            var expected = refusal?.Code ?? StatusCode.OK;
            outcomes[expected] = outcomes.GetValueOrDefault(expected) + 1;
            var problem = $"case {i} (seed {seed}) {name} [{string.Join(" | ", sent.Select(Convert.ToHexString))}]{(encoding == RequestEncoding.Gzip ? " gzip" : "")}";

            if (result.Status != (int)expected)
            {
                problems.Add($"{problem}: status {result.Status} '{result.Message}', expected {expected}");
                continue;
            }
            var allowed = records.Where(r => r.Entry.Decision == AuditDecision.Allowed).ToList();
            var denied = records.Where(r => r.Entry.Decision == AuditDecision.Denied).ToList();
            if (!method.IsClientStreaming)
            {
                if (refusal is { } refused)
                {
                    // Refused before anything is forwarded: the service saw nothing, the record names what protobuf read.
                    if (records.Count != 1 || denied.Count != 1 || !denied[0].Entry.Reason.StartsWith($"{refused.Code}: ", StringComparison.Ordinal))
                    {
                        problems.Add($"{problem}: records [{string.Join(", ", records.Select(r => $"{r.Entry.Decision} {r.Entry.Reason}"))}]");
                    }
                    else if (denied[0].Entry.SubjectPseudonym != refused.Subject)
                    {
                        problems.Add($"{problem}: refusal audited subject '{denied[0].Entry.SubjectPseudonym}', protobuf reads '{refused.Subject}'");
                    }
                    if (_mesh.Upstream.Received.ContainsKey(testCase))
                    {
                        problems.Add($"{problem}: refused, yet the service received the request");
                    }
                    continue;
                }
                var read = _mesh.Upstream.Received.TryGetValue(testCase, out var arrived) ? await arrived.Messages.WaitAsync(TimeSpan.FromSeconds(10)) : [];
                if (read.Count != 1 || !read[0].AsSpan().SequenceEqual(passed[0]))
                {
                    problems.Add($"{problem}: the service saw [{string.Join(" | ", read.Select(Convert.ToHexString))}], protobuf reads {Convert.ToHexString(passed[0])}");
                    continue;
                }
                var subject = SubjectOf(method.InputType, read[0]);
                if (records.Count != 1 || allowed.Count != 1 || allowed[0].Entry.SubjectPseudonym != subject)
                {
                    problems.Add($"{problem}: audited [{string.Join(", ", records.Select(r => $"{r.Entry.Decision} {r.Entry.SubjectPseudonym}"))}], the service read subject '{subject}'");
                }
                continue;
            }

            // A client stream: each message checked as it passes; the service never sees one past the first that fails.
            if (allowed.Count != 1 || allowed[0].Entry.SubjectPseudonym is not null
                || (refusal is { } cut ? denied.Count != 1 || !denied[0].Entry.Reason.StartsWith($"{cut.Code}: ", StringComparison.Ordinal) : denied.Count != 0))
            {
                problems.Add($"{problem}: records [{string.Join(", ", records.Select(r => $"{r.Entry.Decision} {r.Entry.Reason}"))}]");
            }
            if (refusal is null)
            {
                var read = _mesh.Upstream.Received.TryGetValue(testCase, out var arrived) ? await arrived.Messages.WaitAsync(TimeSpan.FromSeconds(10)) : [];
                if (!read.Select(Convert.ToHexString).SequenceEqual(passed.Select(Convert.ToHexString)))
                {
                    problems.Add($"{problem}: the service saw [{string.Join(" | ", read.Select(Convert.ToHexString))}], protobuf reads [{string.Join(" | ", passed.Select(Convert.ToHexString))}]");
                }
            }
            else
            {
                cutStreams.Add((testCase, passed));
            }
        }
        // A cut stream may still be ending at the service when its caller hears the status: checked once all have run.
        foreach (var (testCase, passed) in cutStreams)
        {
            if (_mesh.Upstream.Received.TryGetValue(testCase, out var arrived))
            {
                var read = await arrived.Messages.WaitAsync(TimeSpan.FromSeconds(10));
                if (read.Count > passed.Count || !read.Select(Convert.ToHexString).SequenceEqual(passed.Take(read.Count).Select(Convert.ToHexString)))
                {
                    problems.Add($"{testCase}: the cut-off stream reached the service as [{string.Join(" | ", read.Select(Convert.ToHexString))}], only [{string.Join(" | ", passed.Select(Convert.ToHexString))}] passed");
                }
            }
        }

        output.WriteLine($"seed {seed}: {cases} cases over {_methods.Count} methods in {clock.Elapsed.TotalSeconds:F1} s; "
            + $"{string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}"))}; {problems.Count} failures");
        Assert.True(problems.Count == 0, $"{problems.Count} of {cases} cases failed:\n{string.Join("\n", problems.Take(20))}");
        if (cases >= 100)
        {
            // The generator reaches every outcome, or the property says little.
            Assert.All([StatusCode.OK, StatusCode.PermissionDenied, StatusCode.InvalidArgument], code => Assert.True(outcomes.GetValueOrDefault(code) > 0, $"no case ended {code}"));
        }
    }

    /// <summary>What protobuf reads from the bytes, re-encoded; null when they are no message of the type. Fields the contract does not know go.</summary>
    private static byte[]? Parse(MessageDescriptor type, byte[] message)
    {
        try
        {
            // The service's own parser decides what parses; fields the contract does not know are then dropped.
            return type.Parser.WithDiscardUnknownFields(true).ParseFrom(type.Parser.ParseFrom(message).ToByteArray()).ToByteArray();
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    /// <summary>The subject named by a (canonical, so field-number-ordered) encoding: the first subject field with a value of at most 128 bytes.</summary>
    private static string? SubjectOf(MessageDescriptor type, byte[] canonical)
    {
        var input = new CodedInputStream(canonical);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var field = type.FindFieldByNumber(WireFormat.GetTagFieldNumber(tag));
            if (field is { FieldType: FieldType.String, IsRepeated: false } && SubjectFields.Contains(field.Name) && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                var value = input.ReadBytes();
                if (value.Length is > 0 and <= 128)
                {
                    return $"{field.Name}:{value.ToStringUtf8()}";
                }
                continue;
            }
            input.SkipLastField();
        }
        return null;
    }

    /// <summary>Whether a canonical encoding carries the field with a value: not absent, and not an empty string, bytes or message.</summary>
    private static bool Carries(byte[] canonical, FieldDescriptor field)
    {
        var input = new CodedInputStream(canonical);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) != field.FieldNumber)
            {
                input.SkipLastField();
            }
            else if (WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited || input.ReadBytes().Length > 0)
            {
                return true;
            }
        }
        return false;
    }

    private PolicySnapshot Policy()
    {
        var now = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);
        var grant = new Grant
        {
            GrantId = "fuzz-every-method",
            PartnerId = Partner,
            Purpose = Chain.Common.V1.Purpose.CriminalInvestigation,
            LegalBasis = "test: every method, to fuzz the gateway's request decisions",
            ValidFrom = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-1)),
        };
        foreach (var method in _methods)
        {
            var rule = new MethodRule { Method = MethodCatalog.NameOf(method), ResponseMask = new FieldMask { Paths = { "*" } } };
            if (_required[method] is { } field)
            {
                rule.RequiredRequestFields.Add(field.Name);
            }
            grant.Methods.Add(rule);
        }
        var snapshot = new PolicySnapshot { Revision = 1, PublishedAt = now };
        snapshot.Grants.Add(new GrantVersion
        {
            Grant = grant,
            VersionHash = GrantVersionHash.Compute(grant),
            State = GrantState.Published,
            DraftedBy = "test",
            DraftedAt = now,
            ApprovedBy = "test-reviewer",
            ApprovedAt = now,
        });
        return snapshot;
    }
}
