namespace Ketenmesh.Gateway.Trail;

/// <summary>
/// One chain verification at a time on this gateway: a slice keeps a core busy for up to
/// <see cref="GatewayOptions.AuditVerifySlice"/>, and officers asking at once wait their turn (up to their
/// deadline) rather than each taking a core from the partners' calls.
/// </summary>
public sealed class ChainVerificationGate : IDisposable
{
    private readonly SemaphoreSlim _turn = new(1, 1);

    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken);
        return new Turn(_turn);
    }

    public void Dispose() => _turn.Dispose();

    private sealed class Turn(SemaphoreSlim turn) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                turn.Release();
            }
        }
    }
}
