using System.Collections.Concurrent;

namespace Ketenmesh.Messaging.Tests.Chain;

/// <summary>What the test wants to know from inside the consumers that the database cannot tell it.</summary>
sealed class RegistryProbe
{
    int _duplicates;

    /// <summary>Hop 1 also raises VictimRegistered, making a two-hop chain.</summary>
    public bool RaiseVictimRegistered { get; set; }

    public int Duplicates => Volatile.Read(ref _duplicates);

    /// <summary>Intake commit to last-hop apply, per signal.</summary>
    public ConcurrentBag<TimeSpan> EndToEndLatencies { get; } = [];

    public void Duplicate() => Interlocked.Increment(ref _duplicates);
}
