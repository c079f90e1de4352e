using Google.Protobuf;
using Ketenmesh.Gateway.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Ketenmesh.Gateway.Tests;

/// <summary>`./mesh audit …` on the audit log a running gateway wrote.</summary>
public sealed class AuditCommandTests : IAsyncLifetime
{
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync()
    {
        _mesh = await GatewayMesh.StartAsync(allToContractUpstream: true);
        var request = new Chain.Registry.V1.GetRegistrationRequest { RegistrationId = "reg-42" }.ToByteArray();
        await _mesh.Raw.CallAsync("chain.registry.v1.VictimRegistry/GetRegistration", [request], _mesh.As("care", "victim_care"));
        await _mesh.Raw.CallAsync("chain.registry.v1.VictimRegistry/GetRegistration", [request], _mesh.As("police", "criminal_investigation"));
        await _mesh.Raw.CallAsync("chain.registry.v1.VictimRegistry/GetRegistration", [request], _mesh.As("rapporteur", "statistics"));
    }

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    private async Task<(int Exit, string Output)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var exit = await AuditCommand.RunAsync(
            [.. args, $"--Mesh:DataDirectory={_mesh.DataDirectory}", $"--Database:ConnectionString=Data Source={Path.Combine(_mesh.DataDirectory, "gateway.db")}"],
            output, output);
        return (exit, output.ToString());
    }

    [Fact]
    public async Task Reading_where_no_mesh_has_written_a_log_says_so_and_exits_with_1()
    {
        var nowhere = Path.Combine(_mesh.DataDirectory, "never-ran.db");
        var output = new StringWriter();

        var exit = await AuditCommand.RunAsync(["verify", $"--Mesh:DataDirectory={_mesh.DataDirectory}", $"--Database:ConnectionString=Data Source={nowhere}"], output, output);

        Assert.Equal(1, exit);
        Assert.Contains("The audit log could not be read", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("./mesh audit --real", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_finds_the_gateways_log_intact()
    {
        var (exit, output) = await RunAsync("verify");

        Assert.Equal(0, exit);
        // Three decisions, and beside each of the two allowed reads the registration the stand-in's answer names.
        Assert.Contains("5 records", output);
        Assert.Contains("intact", output);
        // The mesh signed a checkpoint when it started writing or will at its stop; either way the line is there.
        Assert.Matches("Last signed checkpoint: record [0-9]+ .* signature verifies|No signed checkpoint yet", output);
    }

    [Fact]
    public async Task Verify_fails_once_a_record_is_rewritten_behind_the_logs_back()
    {
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(_mesh.DataDirectory, "gateway.db")}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "DROP TRIGGER audit_records_purge_only; UPDATE audit_records SET partner_id = 'municipality' WHERE sequence = 2";
            await command.ExecuteNonQueryAsync();
        }

        var (exit, output) = await RunAsync("verify");

        Assert.Equal(1, exit);
        Assert.Contains("record 2: Changed", output);
    }

    [Fact]
    public async Task Subject_report_names_care_and_withholds_the_investigation_until_released()
    {
        var (exit, before) = await RunAsync("subject", "registration_id:reg-42");
        var police = (await _mesh.AuditAsync()).FindIndex(e => e.PartnerId == "police") + 1;
        var (released, _) = await RunAsync("release", police.ToString(), "privacy-officer-1", "investigation closed");
        var (_, after) = await RunAsync("subject", "registration_id:reg-42");

        Assert.Equal(0, exit);
        Assert.Contains("care", before);
        Assert.DoesNotContain("police", before);
        Assert.Contains("1 confidential (investigation) record(s) withheld", before);
        Assert.Equal(0, released);
        Assert.Contains("police", after);
    }

    [Fact]
    public async Task A_partner_listing_shows_its_own_records_only()
    {
        var (exit, output) = await RunAsync("partner", "care");

        Assert.Equal(0, exit);
        Assert.Contains("care-victim-care", output);
        Assert.DoesNotContain("police-criminal-investigation", output);
    }

    [Fact]
    public async Task Rotating_the_checkpoint_key_keeps_its_public_half_and_the_log_still_verifies()
    {
        var (_, before) = await RunAsync("keys");
        var current = before.Split('\n')[0].Split(' ')[0];

        var (rotated, said) = await RunAsync("rotate-key");
        var (_, after) = await RunAsync("keys");
        var (verified, _) = await RunAsync("verify");

        Assert.Equal(0, rotated);
        Assert.Contains($"Checkpoint key {current} retired", said);
        Assert.Contains($"{current} (retired)", after);
        Assert.DoesNotContain($"{current} (current)", after);
        Assert.Equal(2, after.Split("-----BEGIN PUBLIC KEY-----").Length - 1);
        Assert.Equal(0, verified);
    }

    [Fact]
    public async Task Unknown_command_prints_usage_and_exits_2()
    {
        var (exit, output) = await RunAsync("shred");

        Assert.Equal(2, exit);
        Assert.Contains("usage: audit verify", output);
    }
}

/// <summary>No record, no decision: when the audit log cannot write, the gateway refuses everything.</summary>
public sealed class AuditUnavailableTests : IAsyncLifetime
{
    private GatewayMesh _mesh = null!;

    public async Task InitializeAsync() => _mesh = await GatewayMesh.StartAsync(allToContractUpstream: true);

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task Without_a_writable_audit_log_calls_are_refused_and_never_reach_the_service()
    {
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(_mesh.DataDirectory, "gateway.db")}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "DROP TABLE audit_records";
            await command.ExecuteNonQueryAsync();
        }

        var result = await _mesh.Raw.CallAsync("chain.registry.v1.VictimRegistry/GetRegistration", [[]], _mesh.As("police", "criminal_investigation"));

        Assert.Equal((int)Grpc.Core.StatusCode.Unavailable, result.Status);
        Assert.Contains("cannot record decisions", result.Message);
        Assert.Empty(_mesh.Upstream.Calls);
    }
}
