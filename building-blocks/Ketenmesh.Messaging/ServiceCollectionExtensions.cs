using System.Reflection;
using Ketenmesh.Messaging.Protobuf;
using Ketenmesh.Messaging.Recovery;
using Ketenmesh.Messaging.Topology;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Ketenmesh.Messaging;

public static class ServiceCollectionExtensions
{
    static readonly MethodInfo ExcludeFromTopologyMethod =
        typeof(ServiceCollectionExtensions).GetMethod(nameof(ExcludeFromTopology), BindingFlags.NonPublic | BindingFlags.Static)!;

    static readonly MethodInfo KeepUnroutedMethod =
        typeof(ServiceCollectionExtensions).GetMethod(nameof(KeepUnrouted), BindingFlags.NonPublic | BindingFlags.Static)!;

    static readonly MethodInfo SendAsProtobufMethod =
        typeof(ServiceCollectionExtensions).GetMethod(nameof(SendAsProtobuf), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>
    /// Sets up the process's bus from the <c>Messaging</c> section and returns what
    /// <paramref name="component"/> adds to it. Safe to call once per component: the first call builds
    /// the bus, later calls add to the same bus under their own component name.
    /// </summary>
    /// <param name="component">The component's name (<c>registry</c>): its consumers' queues are <c>{component}.{event}</c>.</param>
    public static ChainMessagingBuilder AddChainMessaging(this IServiceCollection services, IConfiguration configuration, string component)
    {
        ConsumerQueues.ValidateComponent(component);
        if (services.FirstOrDefault(d => d.ServiceType == typeof(EventRegistry))?.ImplementationInstance is EventRegistry existingEvents
            && services.FirstOrDefault(d => d.ServiceType == typeof(ConsumerQueues))?.ImplementationInstance is ConsumerQueues existingQueues
            && services.FirstOrDefault(d => d.ServiceType == typeof(Publications))?.ImplementationInstance is Publications existingPublications)
        {
            return new ChainMessagingBuilder(services, existingEvents, existingQueues, existingPublications, component);
        }

        var section = configuration.GetSection(MessagingOptions.SectionName);
        var options = section.Get<MessagingOptions>() ?? new MessagingOptions();
        var events = new EventRegistry();
        var queues = new ConsumerQueues();
        var publications = new Publications();
        var builder = new ChainMessagingBuilder(services, events, queues, publications, component);
        services.AddSingleton(events);
        services.AddSingleton(queues);
        services.AddSingleton(publications);
        services.AddSingleton<PublishHealth>();
        services.Configure<MessagingOptions>(section);

        if (options.Transport == MessagingTransport.RabbitMq)
        {
            // Registered before the bus: hosted services start in order, so the exchange for
            // unrouted events exists before anything is published.
            services.AddHostedService<UnroutedEvents>();
        }

        services.AddMassTransit(bus =>
        {
            // MassTransit would report usage to its vendor over the internet; nothing leaves the chain.
            bus.DisableUsageTelemetry();
            bus.SetEndpointNameFormatter(new ComponentEndpointNameFormatter(queues));
            // Readiness reads the bus through BusReadiness (stricter); MassTransit's check stays for diagnostics.
            bus.ConfigureHealthCheckOptions(health =>
            {
                health.Tags.Clear();
                health.Tags.Add("masstransit");
            });
            bus.AddConfigureEndpointsCallback((_, queueName, endpoint) => ConfigureReceiveEndpoint(queueName, endpoint, options));
            switch (options.Transport)
            {
                case MessagingTransport.InMemory:
                    bus.UsingInMemory((context, factory) =>
                    {
                        ConfigureSerialization(factory, events);
                        factory.ConfigureEndpoints(context);
                    });
                    break;
                case MessagingTransport.RabbitMq:
                    bus.UsingRabbitMq((context, factory) =>
                    {
                        var rabbit = options.RabbitMq;
                        factory.Host(rabbit.Host, rabbit.Port, rabbit.VirtualHost, host =>
                        {
                            host.Username(rabbit.Username);
                            host.Password(rabbit.Password);
                            // The broker shows which component holds a connection (and so consumes a queue).
                            host.ConnectionName(rabbit.ConnectionName ?? component);
                        });
                        ConfigureSerialization(factory, events);
                        foreach (var descriptor in events.Events)
                        {
                            KeepUnroutedMethod.MakeGenericMethod(descriptor.ClrType).Invoke(null, [factory]);
                        }

                        factory.ConfigureEndpoints(context);
                    });
                    break;
                default:
                    throw new NotSupportedException($"Messaging:Transport '{options.Transport}' is not supported.");
            }
        });

        // A service should not report started while its consumers are not listening yet.
        services.AddOptions<MassTransitHostOptions>().Configure(host => host.WaitUntilStarted = true);
        services.AddHealthChecks().AddCheck<BusReadiness>("bus", tags: [Persistence.Readiness.Tag]);
        if (options.Transport == MessagingTransport.RabbitMq)
        {
            services.TryAddSingleton<IProcessExit, EnvironmentProcessExit>();
            services.AddHostedService<BusWatchdog>();
        }

        return builder;
    }

    static void ConfigureSerialization(IBusFactoryConfigurator factory, EventRegistry events)
    {
        var protobuf = new ProtobufSerializerFactory(events);
        // MassTransit's JSON stays the default for its own messages; events are switched to
        // protobuf per type below, so no event ever travels as JSON.
        factory.AddSerializer(protobuf, isSerializer: false);
        factory.AddDeserializer(protobuf, isDefault: false);
        factory.MessageTopology.SetEntityNameFormatter(new ProtobufEntityNameFormatter(factory.MessageTopology.EntityNameFormatter, events));
        foreach (var descriptor in events.Events)
        {
            SendAsProtobufMethod.MakeGenericMethod(descriptor.ClrType).Invoke(null, [factory]);

            // Generated messages implement IMessage, IMessage<T>, IBufferMessage, IDeepCloneable<T>. As
            // publish topology those would add an exchange each, bound behind the event's exchange, and
            // a message "routed" to them counts as delivered although no queue ever sees it.
            foreach (var contract in descriptor.ClrType.GetInterfaces().Where(i => i.Namespace == typeof(Google.Protobuf.IMessage).Namespace))
            {
                ExcludeFromTopologyMethod.MakeGenericMethod(contract).Invoke(null, [factory]);
            }
        }
    }

    static void ExcludeFromTopology<T>(IBusFactoryConfigurator factory)
        where T : class =>
        factory.Publish<T>(publish => publish.Exclude = true);

    static void KeepUnrouted<T>(IRabbitMqBusFactoryConfigurator factory)
        where T : class =>
        factory.Publish<T>(publish => publish.SetExchangeArgument(EventTopology.AlternateExchangeArgument, EventTopology.UnroutedEvents));

    static void SendAsProtobuf<T>(IBusFactoryConfigurator factory)
        where T : class =>
        factory.Send<T>(send => send.UseSerializer(ProtobufContent.ContentType));

    static void ConfigureReceiveEndpoint(string queueName, IReceiveEndpointConfigurator endpoint, MessagingOptions options)
    {
        // Faults would be published as JSON copies of the event; the error queue keeps the original instead.
        endpoint.PublishFaults = false;
        endpoint.PrefetchCount = options.PrefetchCount;
        var intervals = options.EffectiveRetryIntervals;
        if (intervals.Length > 0)
        {
            endpoint.UseMessageRetry(retry => retry.Intervals(intervals));
        }

        if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            // Replicated and durable; quorum queues also count deliveries, which classic queues cannot.
            rabbit.SetQuorumQueue();
            rabbit.SetQueueArgument("x-delivery-limit", options.DeliveryLimit);
            // Broker-side dead letters (delivery limit reached) land in the same <queue>_error queue
            // MassTransit moves failed messages to: one place to look for everything not applied.
            var errorQueue = $"{queueName}_error";
            rabbit.BindDeadLetterQueue(errorQueue, errorQueue, deadLetter =>
            {
                deadLetter.SetQuorumQueue();
                deadLetter.SetQueueArgument("x-delivery-limit", options.DeliveryLimit);
                deadLetter.SetQueueArgument("x-dead-letter-exchange", errorQueue);
            });
        }
    }
}
