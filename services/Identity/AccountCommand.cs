using Ketenmesh.Identity.Server;
using Ketenmesh.Identity.Domain;

namespace Ketenmesh.Identity;

/// <summary>
/// <c>Ketenmesh.Identity account …</c>: an operator adds and removes the people who sign in at the login page (privacy
/// officers and the Rapporteur's researchers), with the identity's own settings (its environment, or
/// <c>--Section:Key=value</c>), in the data directory the running identity reads on every sign-in and authorization, so
/// a change applies at once:
/// <list type="bullet">
/// <item><c>account add officer|researcher &lt;name&gt;</c>: the password is generated and printed once.</item>
/// <item><c>account remove &lt;name&gt;</c>: the next sign-in, and the next authorization of a session already open, is refused.</item>
/// <item><c>account list</c>: every account and what it is.</item>
/// </list>
/// </summary>
public static class AccountCommand
{
    const string Usage = """
        usage: account add officer|researcher <name>   add an account; its password is printed once
               account remove <name>                   refuse the account's next sign-in
               account list                            every account and what it is
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var (positional, services) = IdentityCommandLine.Open(args);
        await using var provider = services;
        var directory = provider.GetRequiredService<IdentityDirectory>().Path;
        var catalog = provider.GetRequiredService<PartnerCatalog>();

        switch (positional)
        {
            case ["add", var kindName, var account]:
                if (kindName is not ("officer" or "researcher"))
                {
                    await error.WriteLineAsync($"'{kindName}' is no kind of account: officer or researcher.");
                    return 2;
                }

                // A token's subject is the account or the partner: one name must never stand for both.
                if (!OfficerPasswords.IsName(account) || catalog.Find(account) is not null)
                {
                    await error.WriteLineAsync($"'{account}' is not a name an account may have: lower case letters, digits, '.', '_' and '-', and no partner's name.");
                    return 2;
                }

                var kind = kindName == "officer" ? AccountKind.Officer : AccountKind.Researcher;
                if (OfficerPasswords.Add(directory, kind, account) is not { } password)
                {
                    await error.WriteLineAsync($"There is an account '{account}' already: remove it first to make it again.");
                    return 2;
                }

                await output.WriteLineAsync($"{account}: {(kind == AccountKind.Officer ? "a privacy officer" : "a researcher of the National Rapporteur")}. Password, shown this once: {password}");
                return 0;

            case ["remove", var account]:
                if (!OfficerPasswords.Remove(directory, account))
                {
                    await error.WriteLineAsync($"There is no account '{account}'.");
                    return 2;
                }

                await output.WriteLineAsync($"{account}: removed; its next sign-in is refused, and a session it has open gets nothing more.");
                return 0;

            case ["list"]:
                foreach (var (account, listed) in OfficerPasswords.List(directory))
                {
                    await output.WriteLineAsync($"{account}\t{(listed == AccountKind.Officer ? "officer" : "researcher")}");
                }

                return 0;

            default:
                await error.WriteLineAsync(Usage);
                return 2;
        }
    }
}
