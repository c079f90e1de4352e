using Ketenmesh.Hosting;
using Ketenmesh.SharingPolicy;

if (args.FirstOrDefault() == "policy")
{
    return await PolicyCommand.RunAsync(args[1..], Console.Out, Console.Error);
}

return await MeshHost.Build(new SharingPolicyComponent(), args).RunAsync();
