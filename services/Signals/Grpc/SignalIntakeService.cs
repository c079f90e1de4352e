using System.Globalization;
using Chain.Signals.V1;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Ketenmesh.Grpc;
using Ketenmesh.Hosting;
using Ketenmesh.Signals.Domain;

namespace Ketenmesh.Signals.Grpc;

/// <summary><c>chain.signals.v1.SignalIntake</c>: the contract's methods over the intake domain.</summary>
public sealed class SignalIntakeService(SignalIntake intake, SignalStatusFeed feed)
{
    public async Task<SubmitSignalResponse> SubmitSignal(SubmitSignalRequest request, ServerCallContext context)
    {
        var partner = CallerPartner.Require(context);
        var (signal, duplicate) = await intake.SubmitAsync(partner, request.ClientRequestId, request.Observation, context.CancellationToken);
        return new SubmitSignalResponse { Signal = signal, Duplicate = duplicate };
    }

    public async Task<GetSignalResponse> GetSignal(GetSignalRequest request, ServerCallContext context)
    {
        var partner = CallerPartner.Require(context);
        return new GetSignalResponse { Signal = await intake.GetAsync(partner, request.SignalId, context.CancellationToken) };
    }

    public Task<ListMySignalsResponse> ListMySignals(ListMySignalsRequest request, ServerCallContext context) =>
        intake.ListAsync(CallerPartner.Require(context), request, context.CancellationToken);

    /// <summary>
    /// Bulk intake for large actions: each item is answered as soon as it is stored (or refused), with
    /// running totals, so a raid's hundreds of signals show progress and a broken stream resumes safely.
    /// </summary>
    public async Task SubmitSignalBatch(
        IAsyncStreamReader<SubmitSignalBatchRequest> requestStream,
        IServerStreamWriter<SubmitSignalBatchResponse> responseStream,
        ServerCallContext context)
    {
        var partner = CallerPartner.Require(context);
        int received = 0, accepted = 0, rejected = 0;
        await foreach (var item in requestStream.ReadAllAsync(context.CancellationToken))
        {
            received++;
            var response = new SubmitSignalBatchResponse { ClientRequestId = item.ClientRequestId };
            try
            {
                var (signal, duplicate) = await intake.SubmitAsync(partner, item.ClientRequestId, item.Observation, context.CancellationToken);
                response.Outcome = duplicate ? BatchItemOutcome.Duplicate : BatchItemOutcome.Accepted;
                response.SignalId = signal.SignalId;
                accepted++;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.AlreadyExists)
            {
                response.Outcome = BatchItemOutcome.Rejected;
                response.RejectionReason = Describe(ex);
                rejected++;
            }
            response.ItemsReceived = received;
            response.ItemsAccepted = accepted;
            response.ItemsRejected = rejected;
            await responseStream.WriteAsync(response);
        }
    }

    /// <summary>Streams status changes of the caller's own signals; a resume token replays what was missed.</summary>
    public async Task WatchMySignals(WatchMySignalsRequest request, IServerStreamWriter<WatchMySignalsResponse> responseStream, ServerCallContext context)
    {
        var partner = CallerPartner.Require(context);
        var filter = request.StatusFilter.ToHashSet();
        var channel = feed.Subscribe(partner);
        try
        {
            // Headers now tell the client the watch is live: every change after this reaches it.
            await context.WriteResponseHeadersAsync(new Metadata());
            if (request.ResumeToken.Length > 0)
            {
                foreach (var signal in await intake.ChangedSinceAsync(partner, ParseResumeToken(request.ResumeToken), context.CancellationToken))
                {
                    await SendAsync(new SignalStatusChange
                    {
                        SignalId = signal.SignalId,
                        ClientRequestId = signal.ClientRequestId,
                        NewStatus = signal.Status,
                        Outcome = signal.Outcome,
                        ChangedAt = signal.StatusChangedAt,
                    });
                }
            }
            await foreach (var change in channel.Reader.ReadAllAsync(context.CancellationToken))
            {
                await SendAsync(change);
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The partner stopped watching.
        }
        finally
        {
            feed.Unsubscribe(channel);
        }

        Task SendAsync(SignalStatusChange change) =>
            filter.Count > 0 && !filter.Contains(change.NewStatus)
                ? Task.CompletedTask
                : responseStream.WriteAsync(new WatchMySignalsResponse
                {
                    Change = change,
                    ResumeToken = change.ChangedAt.ToDateTime().Ticks.ToString(CultureInfo.InvariantCulture),
                });
    }

    private static DateTime ParseResumeToken(string token) =>
        long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) && ticks <= DateTime.MaxValue.Ticks
            ? new DateTime(ticks, DateTimeKind.Utc)
            : throw RichErrors.InvalidArgument("resume_token is not one this service handed out.", [("resume_token", "pass the resume_token of the last change received")]);

    private static string Describe(RpcException ex)
    {
        var violations = ex.GetRpcStatus()?.GetDetail<BadRequest>()?.FieldViolations;
        return violations is { Count: > 0 }
            ? string.Join("; ", violations.Select(v => $"{v.Field} {v.Description}"))
            : ex.Status.Detail;
    }
}
