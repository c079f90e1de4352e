using Xunit.Sdk;

namespace Ketenmesh.Testing;

/// <summary>
/// For what happens asynchronously (a consumer, a watch, a policy being followed): try an assertion
/// until it holds, and fail with its last failure when the time is up. Never a fixed sleep.
/// </summary>
public static class Eventually
{
    public static async Task SucceedsAsync(Func<Task> attempt, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            try
            {
                await attempt();
                return;
            }
            catch (Exception exception) when (exception is XunitException or Grpc.Core.RpcException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }
}
