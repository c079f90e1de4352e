using Ketenmesh.Hosting;
using Ketenmesh.Shelter;

return await MeshHost.Build(new ShelterComponent(), args).RunAsync();
