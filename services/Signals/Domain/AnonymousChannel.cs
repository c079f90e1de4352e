using Chain.Signals.V1;

namespace Ketenmesh.Signals.Domain;

/// <summary>
/// The anonymous line (Meld Misdaad Anoniem, or a tip a partner received from it): what is kept of such
/// a signal cannot lead back to the reporter. No reporter identity and no place (the municipality is
/// dropped, so no town), and no time finer than the day: timestamps are cut to midnight UTC and the
/// signal's id is random rather than time-ordered, since a time-ordered id would carry the moment too.
/// </summary>
public static class AnonymousChannel
{
    public const string PartnerId = "anonymous";

    public static bool Applies(string partnerId, SignalObservation observation) =>
        partnerId == PartnerId || observation.Channel == SignalChannel.AnonymousLine;

    public static bool Applies(string partnerId, byte[] storedObservation) =>
        partnerId == PartnerId || SignalObservation.Parser.ParseFrom(storedObservation).Channel == SignalChannel.AnonymousLine;

    /// <summary>The observation as it may be kept: without the place it was made.</summary>
    public static SignalObservation Kept(SignalObservation observation)
    {
        var kept = observation.Clone();
        kept.Municipality = null;
        return kept;
    }

    public static DateTime Day(DateTime moment) => DateTime.SpecifyKind(moment.Date, DateTimeKind.Utc);
}
