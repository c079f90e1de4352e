using System.Collections.Concurrent;
using System.Data.Common;
using System.Text;
using Chain.Common.V1;
using Chain.Signals.V1;
using Google.Protobuf;
using Grpc.Core;
using Ketenmesh.Signals.Persistence;
using Ketenmesh.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Ketenmesh.Signals.Tests.SignalsHost;

namespace Ketenmesh.Signals.Tests;

/// <summary>
/// Anonymous tips keep where and what, and nothing of the tipster. Source: seeds/001…txt L12686–12687:
/// "Alle meldingen worden verwerkt zonder naam, adres, woonplaats en tijdsaanduiding."
/// </summary>
public abstract class AnonymousTipTests(SignalsDatabase database) : IAsyncLifetime
{
    private readonly ReceivedEvents _events = new();
    private readonly CapturedLogs _logs = new();
    private ComponentHost _host = null!;

    public async Task InitializeAsync()
    {
        var settings = await database.SettingsAsync();
        // Everything the service might write down, down to debug.
        settings["Logging:LogLevel:Default"] = "Debug";
        _host = await ComponentHost.StartAsync(new SignalsComponent(), settings, (services, bus) =>
        {
            services.AddSingleton(_events);
            services.AddSingleton<ILoggerProvider>(_logs);
            bus.AddConsumer<SignalReceivedProbe>();
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await database.DisposeAsync();
    }

    [Theory]
    [InlineData("anonymous")]
    [InlineData("police")]
    public async Task A_tip_with_a_note_naming_the_tipster_is_refused_field_by_field_and_nothing_of_it_is_kept(string partner)
    {
        var refused = await Assert.ThrowsAsync<RpcException>(() => _host.Channel.Intake().SubmitSignalAsync(
            new SubmitSignalRequest { ClientRequestId = "mma-traces", Observation = Observations.TipWithTipstersTraces() }, As(partner)).ResponseAsync);
        var batch = _host.Channel.Intake().SubmitSignalBatch(As(partner));
        await batch.RequestStream.WriteAsync(new SubmitSignalBatchRequest { ClientRequestId = "mma-traces-batch", Observation = Observations.TipWithTipstersTraces() });
        await batch.RequestStream.CompleteAsync();
        var rejected = await batch.ResponseStream.ReadAllAsync().SingleAsync();
        // A clean tip afterwards: once its event is heard, the refused one had every chance to be heard too.
        var clean = await _host.Channel.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "mma-clean", Observation = Observations.AnonymousTip() }, As(partner));
        await _events.WaitForAsync(e => e.SignalId == clean.Signal.SignalId, TimeSpan.FromSeconds(10));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        var violations = refused.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>()!.FieldViolations;
        Assert.Contains(violations, v => v.Field == "observation.free_text_note");
        Assert.Contains(violations, v => v.Field == "observation.reporter_type");
        Assert.Equal(BatchItemOutcome.Rejected, rejected.Outcome);
        Assert.Contains("observation.free_text_note", rejected.RejectionReason);
        var answered = string.Join("\n", [refused.Status.Detail, .. violations.Select(v => v.Description), rejected.RejectionReason]);
        Assert.Empty(Traces(answered));
        Assert.Empty(await StoredAsync(Observations.TipstersTraces));
        // The search does find what is stored: the clean tip's town.
        Assert.NotEmpty(await StoredAsync(["Amsterdam"]));
        Assert.Equal([clean.Signal.SignalId], _events.SignalsReceived.Select(e => e.Event.SignalId).Distinct());
        Assert.Empty(_events.SignalsReceived.SelectMany(e => Traces(e.Event.ToByteArray())));
        Assert.NotEmpty(_logs.Lines);
        Assert.Empty(_logs.Lines.SelectMany(Traces));
    }

    [Theory]
    [InlineData("anonymous")]
    [InlineData("police")]
    public async Task A_tip_keeps_where_and_what_and_no_time_finer_than_the_month(string partner)
    {
        var tip = Observations.AnonymousTip();
        tip.ObservedOn = new Date { Year = 2026, Month = 11, Day = 14 };

        var submitted = (await _host.Channel.Intake().SubmitSignalAsync(new SubmitSignalRequest { ClientRequestId = "mma-where", Observation = tip }, As(partner))).Signal;
        var read = (await _host.Channel.Intake().GetSignalAsync(new GetSignalRequest { SignalId = submitted.SignalId }, As(partner))).Signal;
        var received = await _events.WaitForAsync(e => e.SignalId == read.SignalId, TimeSpan.FromSeconds(10));

        Assert.Equal("GM0363", read.Observation.Municipality.Code);
        Assert.Equal((FormOfExploitation.Sexual, Sector.SexIndustry, LocationType.Window), (read.Observation.SuspectedForm, read.Observation.Sector, read.Observation.LocationType));
        Assert.Equal(tip.ObservedIndicators, read.Observation.ObservedIndicators);
        Assert.Equal(ReporterType.Anonymous, read.Observation.ReporterType);
        Assert.Equal(new Date { Year = 2026, Month = 11 }, read.Observation.ObservedOn);
        foreach (var moment in new[] { read.ReceivedAt, read.StatusChangedAt, received.OccurredAt }.Select(t => t.ToDateTime()))
        {
            Assert.Equal(new DateTime(moment.Year, moment.Month, 1, 0, 0, 0, DateTimeKind.Utc), moment);
        }
        Assert.Equal((FormOfExploitation.Sexual, Sector.SexIndustry, LocationType.Window), (received.SuspectedForm, received.Sector, received.LocationType));
    }

    private static IEnumerable<string> Traces(string text) => Find(Observations.TipstersTraces, text);

    private static IEnumerable<string> Traces(byte[] bytes) => Find(Observations.TipstersTraces, bytes);

    private static IEnumerable<string> Find(string[] needles, string text) => needles.Where(t => text.Contains(t, StringComparison.OrdinalIgnoreCase));

    private static IEnumerable<string> Find(string[] needles, byte[] bytes) => needles.Where(t => bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(t)) >= 0);

    /// <summary>Every value of every row of every table of the service's database, searched for the needles.</summary>
    private async Task<List<string>> StoredAsync(string[] needles)
    {
        await using var scope = _host.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SignalsDbContext>();
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        var sqlite = db.Database.ProviderName!.Contains("Sqlite", StringComparison.Ordinal);
        var tables = await ColumnAsync(connection, sqlite
            ? "SELECT '\"' || name || '\"' FROM sqlite_master WHERE type = 'table'"
            : "SELECT '\"' || table_schema || '\".\"' || table_name || '\"' FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')");
        Assert.NotEmpty(tables);
        var found = new List<string>();
        foreach (var table in tables)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT * FROM {table}";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    var value = reader.IsDBNull(i) ? null : reader.GetValue(i);
                    found.AddRange((value switch
                    {
                        byte[] bytes => Find(needles, bytes),
                        null => [],
                        _ => Find(needles, Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? ""),
                    }).Select(t => $"{table}: {t}"));
                }
            }
        }
        return found;
    }

    private static async Task<List<string>> ColumnAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(0));
        }
        return values;
    }
}

/// <summary>Every log line the service writes, with its message, its values and any exception.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs logs, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            logs.Lines.Enqueue($"{category} {formatter(state, exception)} {values} {exception}");
        }
    }
}

public sealed class AnonymousTipOnSqliteTests() : AnonymousTipTests(new SignalsDatabase.Sqlite());

public sealed class AnonymousTipOnPostgresTests() : AnonymousTipTests(new SignalsDatabase.Postgres());
