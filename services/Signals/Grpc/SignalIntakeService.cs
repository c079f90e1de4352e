using Ketenmesh.Domain;
using System.Globalization;
using System.Threading.Channels;
using Chain.Signals.V1;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Ketenmesh.Hosting;
using Ketenmesh.Signals.Domain;

namespace Ketenmesh.Signals.Grpc;

/// <summary><c>chain.signals.v1.SignalIntake</c>: the contract's methods over the intake domain.</summary>
[CalledByPartners]
public sealed class SignalIntakeService(Domain.SignalIntake intake, SignalWatch watch) : Chain.Signals.V1.SignalIntake.SignalIntakeBase
{
    public override async Task<SubmitSignalResponse> SubmitSignal(SubmitSignalRequest request, ServerCallContext context)
    {
        var partner = context.Partner();
        var (signal, duplicate) = await intake.SubmitAsync(partner, request.ClientRequestId, request.Observation, context.CancellationToken);
        return new SubmitSignalResponse { Signal = signal, Duplicate = duplicate };
    }

    public override async Task<GetSignalResponse> GetSignal(GetSignalRequest request, ServerCallContext context)
    {
        var transaction = context.Transaction();
        return new GetSignalResponse { Signal = await intake.GetAsync(transaction.Partner, request.SignalId, transaction.Purpose, context.CancellationToken) };
    }

    public override Task<ListMySignalsResponse> ListMySignals(ListMySignalsRequest request, ServerCallContext context) =>
        intake.ListAsync(context.Partner(), request, context.CancellationToken);

    /// <summary>
    /// Bulk intake for large actions: each item is answered once it is stored (or refused), with running
    /// totals, so a raid's hundreds of signals show progress and a broken stream resumes safely. Items
    /// that arrive while a group is being committed form the next group: one durable commit per group.
    /// </summary>
    public override async Task SubmitSignalBatch(
        IAsyncStreamReader<SubmitSignalBatchRequest> requestStream,
        IServerStreamWriter<SubmitSignalBatchResponse> responseStream,
        ServerCallContext context)
    {
        var partner = context.Partner();
        var arrived = Channel.CreateBounded<SubmitSignalBatchRequest>(new BoundedChannelOptions(MaxGroup * 2) { SingleReader = true, SingleWriter = true });
        // The reader stops with the call, also when a commit fails and nobody drains the channel any more.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var reading = ReadAllAsync(requestStream, arrived.Writer, stop.Token);
        try
        {
            int received = 0, accepted = 0, rejected = 0;
            var group = new List<SubmitSignalBatchRequest>(MaxGroup);
            while (await arrived.Reader.WaitToReadAsync(context.CancellationToken))
            {
                while (group.Count < MaxGroup && arrived.Reader.TryRead(out var item))
                {
                    group.Add(item);
                }
                var results = await intake.SubmitManyAsync(partner, group, context.CancellationToken);
                for (var i = 0; i < group.Count; i++)
                {
                    var (signal, duplicate, refusal) = results[i];
                    var response = new SubmitSignalBatchResponse { ClientRequestId = group[i].ClientRequestId, ItemsReceived = ++received };
                    if (refusal is null)
                    {
                        response.Outcome = duplicate ? BatchItemOutcome.Duplicate : BatchItemOutcome.Accepted;
                        response.SignalId = signal!.SignalId;
                        accepted++;
                    }
                    else
                    {
                        response.Outcome = BatchItemOutcome.Rejected;
                        response.RejectionReason = Describe(refusal);
                        rejected++;
                    }
                    response.ItemsAccepted = accepted;
                    response.ItemsRejected = rejected;
                    await responseStream.WriteAsync(response);
                }
                group.Clear();
            }
        }
        finally
        {
            await stop.CancelAsync();
            await reading;
        }
    }

    /// <summary>Most signals committed together; bounds the work lost to one failed commit and the wait for the first answer.</summary>
    internal const int MaxGroup = 100;

    private static async Task ReadAllAsync(IAsyncStreamReader<SubmitSignalBatchRequest> requestStream, ChannelWriter<SubmitSignalBatchRequest> arrived, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var item in requestStream.ReadAllAsync(cancellationToken))
            {
                await arrived.WriteAsync(item, cancellationToken);
            }
            arrived.Complete();
        }
        catch (Exception ex)
        {
            arrived.Complete(ex);
        }
    }

    /// <summary>Streams status changes of the caller's own signals; a resume token replays what was missed.</summary>
    public override async Task WatchMySignals(WatchMySignalsRequest request, IServerStreamWriter<WatchMySignalsResponse> responseStream, ServerCallContext context)
    {
        var partner = context.Partner();
        var filter = request.StatusFilter.ToHashSet();
        var since = request.ResumeToken.Length > 0 ? ParseResumeToken(request.ResumeToken) : DateTime.UtcNow;
        try
        {
            // Headers tell the client the watch is live: every change after this reaches it.
            await foreach (var change in watch.ChangesAsync(partner, since, () => context.WriteResponseHeadersAsync(new Metadata()), context.CancellationToken))
            {
                if (filter.Count == 0 || filter.Contains(change.NewStatus))
                {
                    await responseStream.WriteAsync(new WatchMySignalsResponse
                    {
                        Change = change,
                        ResumeToken = change.ChangedAt.ToDateTime().Ticks.ToString(CultureInfo.InvariantCulture),
                    });
                }
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The partner stopped watching.
        }
    }

    // Tokens are the time of a change this service handed out: never before 1970, never days ahead of now. Anything
    // else parses as a number but is no such time, and near DateTime's ends the watch's window arithmetic would overflow.
    private static DateTime ParseResumeToken(string token) =>
        long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            && ticks >= DateTime.UnixEpoch.Ticks && ticks <= DateTime.UtcNow.AddDays(1).Ticks
            ? new DateTime(ticks, DateTimeKind.Utc)
            : throw new InvalidRequest("resume_token is not one this service handed out.", [("resume_token", "pass the resume_token of the last change received")]);

    /// <summary>A rejected item's reason as the batch answers it: every field problem, or the refusal's message.</summary>
    private static string Describe(DomainRefusal refusal) =>
        refusal is InvalidRequest { Problems.Count: > 0 } invalid
            ? string.Join("; ", invalid.Problems.Select(p => $"{p.Field} {p.Description}"))
            : refusal.Message;
}
