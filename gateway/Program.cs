using Ketenmesh.Gateway;
using Ketenmesh.Hosting;

if (args.FirstOrDefault() == "audit")
{
    return await AuditCommand.RunAsync(args[1..], Console.Out, Console.Error);
}

return await MeshHost.Build(new GatewayComponent(), args).RunAsync();
