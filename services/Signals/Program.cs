using Ketenmesh.Hosting;
using Ketenmesh.Signals;

return await MeshHost.Build(new SignalsComponent(), args).RunAsync();
