using Ketenmesh.Hosting;
using Ketenmesh.Returns;

return await MeshHost.Build(new ReturnsComponent(), args).RunAsync();
