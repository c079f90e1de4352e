using Ketenmesh.Gateway;
using Ketenmesh.Hosting;

return await MeshHost.Build(new GatewayComponent(), args).RunAsync();
