using Google.Protobuf.Reflection;
using Ketenmesh.Messaging.Outbox;
using Ketenmesh.Messaging.Protobuf;
using Ketenmesh.Messaging.Topology;
using Ketenmesh.Persistence;
using MassTransit;
using MassTransit.Configuration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Ketenmesh.Messaging;

/// <summary>
/// What one component adds to the process's one bus. Every component of the embedded profile calls
/// AddChainMessaging with its own name and gets a builder for that name on the shared bus, so its
/// consumers get queues of its own (<see cref="ConsumerQueues"/>).
/// </summary>
public sealed class ChainMessagingBuilder
{
    internal ChainMessagingBuilder(IServiceCollection services, EventRegistry events, ConsumerQueues queues, Publications publications, string component)
    {
        Services = services;
        Events = events;
        Queues = queues;
        Publications = publications;
        Component = component;
    }

    public IServiceCollection Services { get; }

    public EventRegistry Events { get; }

    /// <summary>Every consumer queue claimed in this process, by any component.</summary>
    public ConsumerQueues Queues { get; }

    /// <summary>Which events each component of this process publishes.</summary>
    public Publications Publications { get; }

    /// <summary>The component this builder adds for: the first part of its consumers' queue names.</summary>
    public string Component { get; }

    /// <summary>Registers every message of a .proto file as an event (e.g. <c>ChainEventsReflection.Descriptor</c>).</summary>
    public ChainMessagingBuilder AddEvents(FileDescriptor file)
    {
        Events.AddFile(file);
        return this;
    }

    public ChainMessagingBuilder AddEvent(MessageDescriptor descriptor)
    {
        Events.Add(descriptor);
        return this;
    }

    /// <summary>
    /// Registers every message of a .proto file as an event this component publishes: its outbox takes
    /// them (and refuses any other event), and its broker user may write to their exchanges (<see cref="BrokerGrant"/>).
    /// </summary>
    public ChainMessagingBuilder Publishes(FileDescriptor file)
    {
        ArgumentNullException.ThrowIfNull(file);
        foreach (var message in file.MessageTypes)
        {
            Publishes(message);
        }

        return this;
    }

    /// <summary>Registers one event this component publishes; see <see cref="Publishes(FileDescriptor)"/>.</summary>
    public ChainMessagingBuilder Publishes(MessageDescriptor descriptor)
    {
        Events.Add(descriptor);
        Publications.Add(Component, descriptor.FullName);
        return this;
    }

    /// <summary>A consumer with a queue of its own: <c>{component}.{event}</c>.</summary>
    /// <exception cref="InvalidOperationException">Another consumer in this process already takes that queue.</exception>
    public ChainMessagingBuilder AddConsumer<TConsumer>()
        where TConsumer : class, IConsumer
    {
        Queues.Claim<TConsumer>(Component);
        // MassTransit's registrar outside AddMassTransit: lets components add consumers after the bus is set up.
        Services.RegisterConsumer<TConsumer>();
        return this;
    }

    /// <summary>
    /// Gives <typeparamref name="TContext"/> an outbox: <see cref="EventOutbox{TContext}"/> for domain code
    /// (taking only the events this component <see cref="Publishes(FileDescriptor)"/>),
    /// a dispatcher that publishes after commit, and the table's migration. The context must call
    /// <c>modelBuilder.AddOutbox()</c> and be registered with AddChainDbContext.
    /// </summary>
    public ChainMessagingBuilder AddOutbox<TContext>()
        where TContext : DbContext
    {
        if (Services.Any(d => d.ServiceType == typeof(OutboxSignal<TContext>)))
        {
            return this;
        }

        Services.AddSingleton(new OutboxPublisher<TContext>(Component));
        Services.AddSingleton<OutboxSignal<TContext>>();
        Services.AddSingleton<OutboxCommitInterceptor<TContext>>();
        Services.AddScoped<EventOutbox<TContext>>();
        Services.ConfigureDbContext<TContext>((provider, options) => options.AddInterceptors(provider.GetRequiredService<OutboxCommitInterceptor<TContext>>()));
        // Added after AddMassTransit, so the host starts it after the bus and stops it before.
        Services.AddSingleton<IHostedService, OutboxDispatcher<TContext>>();
        Services.AddSchemaMigrations<TContext>(MessagingSchema.OutboxMigration);
        return this;
    }

    /// <summary>
    /// Creates the inbox table in <typeparamref name="TContext"/> for consumers derived from
    /// <see cref="Inbox.InboxConsumer{TContext,TEvent}"/>; the context must call <c>modelBuilder.AddInbox()</c>.
    /// </summary>
    public ChainMessagingBuilder AddInbox<TContext>()
        where TContext : DbContext
    {
        if (Services.Any(d => d.ImplementationType == typeof(Inbox.InboxCleanup<TContext>)))
        {
            return this;
        }

        Services.AddSchemaMigrations<TContext>(MessagingSchema.InboxMigration);
        Services.AddSingleton<IHostedService, Inbox.InboxCleanup<TContext>>();
        return this;
    }
}
