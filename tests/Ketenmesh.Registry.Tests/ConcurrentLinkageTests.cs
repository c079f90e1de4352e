using Chain.Common.V1;
using Chain.Events.V1;
using Chain.Risk.V1;
using Google.Protobuf;
using Ketenmesh.Registry.Persistence;
using Ketenmesh.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Registry.Tests;

/// <summary>On PostgreSQL, where transactions run side by side: signals about one person decided at the same moment still make one registration.</summary>
public sealed class ConcurrentLinkageTests : IAsyncLifetime
{
    private TestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await TestDatabase.CreateAsync("registry");

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Signals_about_one_person_assessed_at_once_register_that_person_once()
    {
        var settings = _database.Settings("Database");
        settings["Messaging:Transport"] = "InMemory";
        await using var registry = await ComponentHost.StartAsync(new RegistryComponent(), settings);
        const int people = 20, signalsEach = 3;
        var signals = Enumerable.Range(0, people * signalsEach).Select(i => (Id: $"sig-{i}", Person: i % people)).ToList();
        foreach (var (id, person) in signals)
        {
            var hash = new byte[32];
            BitConverter.GetBytes(person).CopyTo(hash, 0);
            await registry.PublishAsync(new SignalReceived
            {
                EventId = Guid.NewGuid().ToString(),
                SignalId = id,
                ReporterPartner = PartnerType.Police,
                PersonLinkKeys = { new PersonLinkKey { Kind = LinkKeyKind.TravelDocument, KeyedHash = ByteString.CopyFrom(hash), KeyId = "chain-2026-1" } },
            });
        }

        await Task.WhenAll(signals.Select(s => registry.PublishAsync(new RiskAssessed { EventId = Guid.NewGuid().ToString(), SignalId = s.Id, Band = RiskBand.High })));

        List<RegistrationRow> registrations;
        int decided;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            await Task.Delay(100);
            await using var scope = registry.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
            registrations = await db.Registrations.AsNoTracking().ToListAsync();
            decided = await db.PendingSignals.CountAsync(p => p.Decided);
        }
        // Until every signal is decided and every person registered (a loaded machine commits the last
        // registrations after the decisions are counted); a duplicate registration still fails below.
        while ((decided < signals.Count || registrations.Count < people) && DateTime.UtcNow < deadline);

        Assert.Equal(signals.Count, decided);
        Assert.Equal(people, registrations.Count);
    }
}
