using Ketenmesh.Policy.Decisions;

namespace Ketenmesh.Gateway.Access;

/// <summary>The policy in force. Starts empty, which denies everything, until the first snapshot arrives.</summary>
public sealed class CurrentPolicy
{
    private AccessPolicy _policy = AccessPolicy.Empty;

    public AccessPolicy Value => Volatile.Read(ref _policy);

    /// <summary>Raised after each replacement, with the new revision (tests and logs follow it).</summary>
    public event Action<long>? Replaced;

    public void Replace(AccessPolicy policy)
    {
        Volatile.Write(ref _policy, policy);
        Replaced?.Invoke(policy.Revision);
    }
}
