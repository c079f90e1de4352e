using Chain.Risk.V1;
using Grpc.Net.Client;

namespace Ketenmesh.Gateway.Tests.Support;

static class RiskCalls
{

}

static class RegistryCalls
{

}
