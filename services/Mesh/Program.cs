using Ketenmesh.Hosting;
using Ketenmesh.Mesh;
using Ketenmesh.Mesh.Demo;
using Microsoft.Extensions.Configuration.Memory;

if (args.FirstOrDefault() == "deployment")
{
    return DeploymentCommand.Run(args, Console.Out, Console.Error);
}

if (args.FirstOrDefault() == "demo")
{
    return await DemoCommand.RunAsync(args, Console.Out, Console.Error);
}

return await EmbeddedConsole.RunAsync(MeshHost.BuildEmbedded(MeshComponents.All, args,
    configuration => configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = LocalProfile.Defaults })));
