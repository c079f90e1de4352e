namespace Ketenmesh.Shelter.Domain;

/// <summary>How long beds are held and how often expired holds are released.</summary>
public sealed class PlacementOptions
{
    /// <summary>
    /// How long a bed is held for a placement before the shelter must confirm it. A victim found in a raid needs
    /// a bed the same day (PLACEMENT_URGENCY_IMMEDIATE); a bed kept longer for someone who does not come is a bed
    /// another victim lacks.
    /// </summary>
    public TimeSpan HoldDuration { get; set; } = TimeSpan.FromHours(6);

    /// <summary>How often holds past their expiry are released; zero or less switches the job off.</summary>
    public TimeSpan ExpiryInterval { get; set; } = TimeSpan.FromSeconds(30);
}
