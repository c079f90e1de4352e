using Chain.Audit.V1;
using Chain.Policy.V1;
using Chain.Registry.V1;
using Chain.Risk.V1;
using Chain.Shelter.V1;
using Chain.Signals.V1;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1;

namespace Ketenmesh.Testing;

/// <summary>The generated typed clients of every chain contract, on any channel (a service's own port or the gateway).</summary>
public static class ChainClients
{
    public static SignalIntake.SignalIntakeClient Intake(this ChannelBase channel) => new(channel);

    public static RiskAssessment.RiskAssessmentClient Risk(this ChannelBase channel) => new(channel);

    public static VictimRegistry.VictimRegistryClient Registry(this ChannelBase channel) => new(channel);

    public static ShelterCapacity.ShelterCapacityClient Shelter(this ChannelBase channel) => new(channel);

    public static SharingPolicyAdmin.SharingPolicyAdminClient PolicyAdmin(this ChannelBase channel) => new(channel);

    public static PolicyDistribution.PolicyDistributionClient PolicyDistribution(this ChannelBase channel) => new(channel);

    public static AuditTrail.AuditTrailClient AuditTrail(this ChannelBase channel) => new(channel);

    public static Health.HealthClient Health(this ChannelBase channel) => new(channel);

    public static ServerReflection.ServerReflectionClient Reflection(this ChannelBase channel) => new(channel);
}
