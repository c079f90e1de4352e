using System.Diagnostics;

namespace Ketenmesh.Testing;

/// <summary>
/// Runs deploy/rabbitmq-users.sh, the provisioning step of <c>./mesh up --real</c>, compose and
/// Kubernetes, so the real-profile tests give components the users and permissions production does.
/// </summary>
public static class BrokerUsers
{
    /// <summary>The script and its permission table, copied next to the tests (see Ketenmesh.Testing.csproj).</summary>
    public static string Script => Path.Combine(AppContext.BaseDirectory, "rabbitmq-users.sh");

    /// <summary>Gives each (component, user) the component's permissions in <paramref name="virtualHost"/>; passwords in <paramref name="passwords"/>.</summary>
    public static async Task ProvisionAsync(string virtualHost, string passwords, params (string Component, string User)[] users)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { Script, "--vhost", virtualHost, "--passwords", passwords }.Concat(users.Select(u => $"{u.Component}={u.User}")))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"rabbitmq-users.sh exited {process.ExitCode}: {await stderr}{await stdout}");
        }
    }

    /// <summary>The password the script keeps for <paramref name="component"/> in <paramref name="passwords"/>.</summary>
    public static string PasswordOf(string passwords, string component) => File.ReadAllText(Path.Combine(passwords, $"{component}.password")).Trim();
}
