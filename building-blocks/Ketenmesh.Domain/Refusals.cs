namespace Ketenmesh.Domain;

/// <summary>
/// The domain's "no": a request the chain's rules refuse, with a reason meant for the partner who asked.
/// Domain code throws these and never a transport's exception; Ketenmesh.Hosting maps each kind to a gRPC
/// status in one place. The message is shown to the caller: it names records and rules, never personal data.
/// </summary>
public abstract class DomainRefusal(string message) : Exception(message);

/// <summary>What the request names does not exist here (gRPC NOT_FOUND).</summary>
public sealed class NotFound(string message) : DomainRefusal(message);

/// <summary>The record already exists and may not be made again (gRPC ALREADY_EXISTS).</summary>
public sealed class AlreadyExists(string message) : DomainRefusal(message);

/// <summary>The request is valid, but the record's state does not allow it now (gRPC FAILED_PRECONDITION).</summary>
public sealed class NotNow(string message) : DomainRefusal(message);

/// <summary>This caller may not do this to this record (gRPC PERMISSION_DENIED).</summary>
public sealed class NotAllowed(string message) : DomainRefusal(message);

/// <summary>One problem with one field of the request: the field's path and what is wrong with it.</summary>
public readonly record struct FieldProblem(string Field, string Description);

/// <summary>
/// The request itself is wrong, field by field (gRPC INVALID_ARGUMENT with a google.rpc.BadRequest that
/// names every field, so a partner's system can show each one).
/// </summary>
public sealed class InvalidRequest : DomainRefusal
{
    public InvalidRequest(string message, IEnumerable<(string Field, string Description)> problems)
        : base(message) => Problems = problems.Select(p => new FieldProblem(p.Field, p.Description)).ToList();

    /// <summary>The message repeats every problem, for clients that show only the message.</summary>
    public InvalidRequest(IReadOnlyCollection<(string Field, string Description)> problems)
        : this(string.Join("; ", problems.Select(p => $"{p.Field} {p.Description}")), problems)
    {
    }

    public IReadOnlyList<FieldProblem> Problems { get; }

    /// <summary>Refuses the request when there is any problem, naming them all at once.</summary>
    public static void ThrowIfAny(IReadOnlyCollection<(string Field, string Description)> problems)
    {
        if (problems.Count > 0)
        {
            throw new InvalidRequest(problems);
        }
    }
}

/// <summary>The record changed since the caller read it; nothing was changed, read it again (gRPC ABORTED).</summary>
public sealed class Outdated(string message) : DomainRefusal(message);
