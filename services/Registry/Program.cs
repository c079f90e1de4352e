using Ketenmesh.Hosting;
using Ketenmesh.Registry;

return await MeshHost.Build(new RegistryComponent(), args).RunAsync();
