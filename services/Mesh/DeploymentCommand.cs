using Ketenmesh.Hosting.Deployment;

namespace Ketenmesh.Mesh;

/// <summary>
/// <c>Ketenmesh.Mesh deployment list</c> prints each component of <c>deploy/components.ini</c> as
/// "name project port"; <c>deployment env NAME --postgres CS --rabbitmq-passwords DIR --data-directory D</c>
/// prints its environment on loopback, one NAME=value a line, with each component's broker password read
/// from <c>DIR/&lt;component&gt;.password</c> (where deploy/rabbitmq-users.sh keeps them);
/// <c>deployment rabbitmq-permissions</c> prints deploy/rabbitmq-permissions.tsv. <c>./mesh up --real</c>
/// runs components with exactly that, so it cannot drift from what compose, k8s and the tests use. An
/// OTEL_EXPORTER_OTLP_ENDPOINT in the caller's environment is where the components send their telemetry.
/// </summary>
public static class DeploymentCommand
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var table = DeploymentTable.Load();
        switch (args.ElementAtOrDefault(1))
        {
            case "list":
                foreach (var component in table)
                {
                    output.WriteLine($"{component.Name} {component.Project} {component.Port}");
                }

                return 0;
            case "env" when args.Length > 2:
                var passwords = Require(args, "--rabbitmq-passwords");
                var target = DeploymentTarget.Loopback(
                    Require(args, "--postgres"), component => File.ReadAllText(Path.Combine(passwords, $"{component}.password")).Trim(), Require(args, "--data-directory"),
                    Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") ?? "");
                var named = table.SingleOrDefault(c => c.Name == args[2]);
                if (named is null)
                {
                    error.WriteLine($"deployment: no component '{args[2]}' in deploy/{DeploymentTable.FileName}");
                    return 2;
                }

                foreach (var (key, value) in target.Render(named, table))
                {
                    output.WriteLine($"{key}={value}");
                }

                return 0;
            case "rabbitmq-permissions":
                output.Write(BrokerGrants.Table(BrokerGrants.All()));
                return 0;
            default:
                error.WriteLine("usage: deployment list | deployment env NAME --postgres CS --rabbitmq-passwords DIR --data-directory D | deployment rabbitmq-permissions");
                return 2;
        }
    }

    static string Require(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : throw new ArgumentException($"deployment env needs {name}");
    }
}
