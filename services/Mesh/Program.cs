using Ketenmesh.Hosting;
using Ketenmesh.Mesh;

return await MeshHost.BuildEmbedded(MeshComponents.All, args).RunAsync();
