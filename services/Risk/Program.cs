using Ketenmesh.Hosting;
using Ketenmesh.Risk;

return await MeshHost.Build(new RiskComponent(), args).RunAsync();
