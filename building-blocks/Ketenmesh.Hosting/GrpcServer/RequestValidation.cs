using System.Collections.Concurrent;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Ketenmesh.Domain;
using Microsoft.Extensions.DependencyInjection;

namespace Ketenmesh.Hosting.GrpcServer;

/// <summary>
/// Checks one request type before its handler runs. The problems it finds are answered as
/// INVALID_ARGUMENT with one BadRequest field violation each, and the handler never sees the request.
/// Register with <see cref="RequestValidatorRegistration.AddRequestValidator{TValidator}"/>.
/// </summary>
public abstract class RequestValidator<TRequest> : IRequestValidator
{
    Type IRequestValidator.RequestType => typeof(TRequest);

    IEnumerable<(string Field, string Description)> IRequestValidator.Validate(object request) => Validate((TRequest)request);

    public abstract IEnumerable<(string Field, string Description)> Validate(TRequest request);
}

public interface IRequestValidator
{
    Type RequestType { get; }

    IEnumerable<(string Field, string Description)> Validate(object request);
}

public static class RequestValidatorRegistration
{
    public static IServiceCollection AddRequestValidator<TValidator>(this IServiceCollection services)
        where TValidator : class, IRequestValidator
    {
        services.AddSingleton<IRequestValidator, TValidator>();
        return services;
    }
}

/// <summary>
/// Runs the request's validator, if it has one, after the ceiling on lists every request keeps
/// (<see cref="RequestLists"/>); the refusal interceptor outside maps the refusal.
/// </summary>
internal sealed class RequestValidationInterceptor(IEnumerable<IRequestValidator> validators) : AroundInterceptor
{
    private readonly Dictionary<Type, IRequestValidator> _byType = validators.ToDictionary(v => v.RequestType);

    protected override Task<T> AroundAsync<T>(object? request, ServerCallContext context, Func<Task<T>> handler)
    {
        if (request is IMessage message)
        {
            InvalidRequest.ThrowIfAny(RequestLists.Problems(message));
        }
        if (request is not null && _byType.TryGetValue(request.GetType(), out var validator))
        {
            InvalidRequest.ThrowIfAny(validator.Validate(request).ToList());
        }
        return handler();
    }
}

/// <summary>
/// A ceiling on the lists (repeated and map fields) of every request, whatever its service. A list becomes a
/// query's terms, a lookup's keys or stored rows, and one message of a few megabytes holds millions of
/// entries: without a ceiling a single call could take a service's memory or its database's parser down.
/// No request of the chain needs more; a service may keep a lower limit of its own (link keys: 20).
/// </summary>
public static class RequestLists
{
    /// <summary>The most entries one list may hold.</summary>
    public const int MaxEntries = 1_000;

    /// <summary>The most entries all the lists of one request may hold together (lists of messages with lists).</summary>
    public const int MaxTotalEntries = 10_000;

    // Per message type, once: the fields that are lists or may hold lists further down.
    private static readonly ConcurrentDictionary<MessageDescriptor, FieldDescriptor[]> Fields = new();

    /// <summary>The lists of <paramref name="request"/> over the ceiling, by field path; empty for almost every request.</summary>
    public static List<(string Field, string Description)> Problems(IMessage request)
    {
        var problems = new List<(string Field, string Description)>();
        var total = 0;
        Collect(request, "", problems, ref total, depth: 0);
        if (total > MaxTotalEntries && problems.Count == 0)
        {
            problems.Add(("request", $"the request's lists hold {total} entries together; at most {MaxTotalEntries}."));
        }
        return problems;
    }

    private static void Collect(IMessage message, string prefix, List<(string Field, string Description)> problems, ref int total, int depth)
    {
        // Protobuf's parser already refuses nesting past 100; this only keeps the walk bounded on its own.
        if (depth > 100)
        {
            return;
        }
        foreach (var field in Fields.GetOrAdd(message.Descriptor, ListBearing))
        {
            var value = field.Accessor.GetValue(message);
            if (field.IsMap || field.IsRepeated)
            {
                var entries = (System.Collections.ICollection)value;
                total += entries.Count;
                if (entries.Count > MaxEntries)
                {
                    problems.Add(($"{prefix}{field.Name}", $"at most {MaxEntries} entries, not {entries.Count}."));
                    continue;
                }
                if (field.IsMap)
                {
                    // A map's values are not walked: no request of the chain has a map of messages with lists in them.
                    continue;
                }
                if (field.FieldType == FieldType.Message)
                {
                    var i = 0;
                    foreach (IMessage item in (System.Collections.IList)value)
                    {
                        Collect(item, $"{prefix}{field.Name}[{i++}].", problems, ref total, depth + 1);
                    }
                }
            }
            else if (value is IMessage child)
            {
                Collect(child, $"{prefix}{field.Name}.", problems, ref total, depth + 1);
            }
        }
    }

    private static FieldDescriptor[] ListBearing(MessageDescriptor type) =>
        type.Fields.InFieldNumberOrder()
            .Where(f => f.IsRepeated || f.IsMap || f.FieldType == FieldType.Message && HoldsLists(f.MessageType, []))
            .ToArray();

    private static bool HoldsLists(MessageDescriptor type, HashSet<MessageDescriptor> seen) =>
        seen.Add(type) && type.Fields.InFieldNumberOrder().Any(f => f.IsRepeated || f.IsMap || f.FieldType == FieldType.Message && HoldsLists(f.MessageType, seen));
}
