using Ketenmesh.Hosting;
using Ketenmesh.Identity;

return await MeshHost.Build(new IdentityComponent(), args).RunAsync();
