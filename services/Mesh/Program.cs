using Ketenmesh.Hosting;
using Ketenmesh.Mesh;
using Microsoft.Extensions.Configuration.Memory;

return await MeshHost.BuildEmbedded(MeshComponents.All, args,
    configuration => configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = LocalProfile.Defaults })).RunAsync();
