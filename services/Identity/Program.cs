using Ketenmesh.Hosting;
using Ketenmesh.Identity;

if (args.FirstOrDefault() == "token")
{
    return await TokenCommand.RunAsync(args[1..], Console.Out, Console.Error);
}

if (args.FirstOrDefault() == "account")
{
    return await AccountCommand.RunAsync(args[1..], Console.Out, Console.Error);
}

if (args.FirstOrDefault() == "client")
{
    return await ClientCommand.RunAsync(args[1..], Console.In, Console.Out, Console.Error);
}

return await MeshHost.Build(new IdentityComponent(), args).RunAsync();
