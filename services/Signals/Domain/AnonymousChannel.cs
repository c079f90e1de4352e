using Chain.Common.V1;
using Chain.Signals.V1;

namespace Ketenmesh.Signals.Domain;

/// <summary>
/// The anonymous line (Meld Misdaad Anoniem, or a tip a partner received from it). Source: seeds/001…txt
/// L12686–12687: "Alle meldingen worden verwerkt zonder naam, adres, woonplaats en tijdsaanduiding" — without
/// the tipster's name, address, town and time. What the tip says about the case stays (municipality, form,
/// sector, location type, indicators): that is the case's own data, not the tipster's. What could lead back
/// to the tipster is refused (a free-text note, who the tipster is) or coarsened (time to the month). The
/// signal's id is random rather than time-ordered, since a time-ordered id would carry the moment too.
/// </summary>
public static class AnonymousChannel
{
    public const string PartnerId = "anonymous";

    public static bool Applies(string partnerId, SignalObservation observation) =>
        partnerId == PartnerId || observation.Channel == SignalChannel.AnonymousLine;

    public static bool Applies(string partnerId, byte[] storedObservation) =>
        partnerId == PartnerId || SignalObservation.Parser.ParseFrom(storedObservation).Channel == SignalChannel.AnonymousLine;

    /// <summary>
    /// What a tip may not carry, refused rather than dropped so the partner learns what not to pass on. The
    /// descriptions never repeat what was sent: a refusal is logged and answered, and must not keep it either.
    /// </summary>
    public static IEnumerable<(string Field, string Description)> Problems(SignalObservation observation, string prefix = "")
    {
        // Name, address and town (naam, adres, woonplaats, L12687) come in as free text: a note a tipster dictated
        // held a name, a street and a phone number. The indicators say what was seen without it.
        if (observation.FreeTextNote.Length > 0)
        {
            yield return ($"{prefix}observation.free_text_note",
                "is refused on the anonymous line: a note can name or locate the tipster; describe what was seen with observed_indicators");
        }
        // Who the tipster is (a client, a neighbour, family) narrows down who called: the line keeps no reporter.
        if (observation.ReporterType is not (ReporterType.Unspecified or ReporterType.Anonymous))
        {
            yield return ($"{prefix}observation.reporter_type",
                "must be ANONYMOUS or unset on the anonymous line: who the tipster is is not kept");
        }
    }

    /// <summary>The observation as it may be kept: the reporter anonymous, the day of observation cut to its month.</summary>
    public static SignalObservation Kept(SignalObservation observation)
    {
        var kept = observation.Clone();
        kept.ReporterType = ReporterType.Anonymous;
        if (kept.ObservedOn is { Month: > 0 } observed)
        {
            // No tijdsaanduiding (L12687): the month says when the case was seen, not when the tipster was there.
            observed.Day = 0;
        }
        return kept;
    }

    /// <summary>A moment as a tip may keep it: the first of its month, midnight UTC.</summary>
    public static DateTime Month(DateTime moment) => new(moment.Year, moment.Month, 1, 0, 0, 0, DateTimeKind.Utc);
}
