using Chain.Risk.V1;
using Ketenmesh.Grpc.Client;

namespace Ketenmesh.Gateway.Tests.Support;

static class RiskCalls
{
    private static readonly Google.Protobuf.Reflection.ServiceDescriptor Service = RiskReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("RiskAssessment");

    public static readonly Method<GetAssessmentRequest, GetAssessmentResponse> Get = Method<GetAssessmentRequest, GetAssessmentResponse>.From(Service.FindMethodByName("GetAssessment"));
    public static readonly Method<ExplainAssessmentRequest, ExplainAssessmentResponse> Explain = Method<ExplainAssessmentRequest, ExplainAssessmentResponse>.From(Service.FindMethodByName("ExplainAssessment"));
}

static class RegistryCalls
{
    private static readonly Google.Protobuf.Reflection.ServiceDescriptor Service = Chain.Registry.V1.RegistryReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("VictimRegistry");

    public static readonly Method<Chain.Registry.V1.GetRegistrationRequest, Chain.Registry.V1.GetRegistrationResponse> Get =
        Method<Chain.Registry.V1.GetRegistrationRequest, Chain.Registry.V1.GetRegistrationResponse>.From(Service.FindMethodByName("GetRegistration"));
}
