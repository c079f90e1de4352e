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

/// <summary>Runs the request's validator, if it has one; the refusal interceptor outside maps the refusal.</summary>
internal sealed class RequestValidationInterceptor(IEnumerable<IRequestValidator> validators) : AroundInterceptor
{
    private readonly Dictionary<Type, IRequestValidator> _byType = validators.ToDictionary(v => v.RequestType);

    protected override Task<T> AroundAsync<T>(object? request, ServerCallContext context, Func<Task<T>> handler)
    {
        if (request is not null && _byType.TryGetValue(request.GetType(), out var validator))
        {
            InvalidRequest.ThrowIfAny(validator.Validate(request).ToList());
        }
        return handler();
    }
}
