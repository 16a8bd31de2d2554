using Ksctl.Core.Configuration;

namespace Ksctl.Server.Security;

/// <summary>
/// <c>ksctl-server apikey create|revoke|list</c>: manages the API keys of the server that uses the same $KSCTL_HOME
/// (or <c>--home</c>). The key is printed once, at creation; only its hash is kept.
/// </summary>
public static class ApiKeyCommand
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        string? Option(string name)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        var home = Option("--home") is { } h ? Path.GetFullPath(h) : KsctlSettings.DefaultHome();
        var store = new ApiKeyStore(ApiKeyStore.DefaultPath(home), TimeProvider.System);
        try
        {
            switch (args.FirstOrDefault())
            {
                case "create":
                    var name = Option("--name") ?? throw new ArgumentException("--name is required.");
                    var roleText = Option("--role") ?? "reader";
                    if (!Enum.GetNames<ApiRole>().Any(n => n.Equals(roleText, StringComparison.OrdinalIgnoreCase)))
                        throw new ArgumentException($"--role '{roleText}' is not one of reader, operator, admin.");
                    var (record, key) = store.Create(name, Enum.Parse<ApiRole>(roleText, ignoreCase: true));
                    output.WriteLine(key);
                    error.WriteLine($"Created API key '{record.Name}' ({record.Role}, id {record.Id}). It is shown only now; only its hash is kept in {store.Path}.");
                    return 0;
                case "revoke":
                    var target = Option("--name") ?? throw new ArgumentException("--name is required.");
                    if (!store.Revoke(target)) { error.WriteLine($"No live API key named '{target}'."); return 1; }
                    output.WriteLine($"Revoked API key '{target}'.");
                    return 0;
                case "list":
                    foreach (var k in store.List())
                        output.WriteLine($"{k.Name}\t{k.Role}\t{k.Id}\t{k.CreatedAt:O}\t{(k.RevokedAt is { } r ? "revoked " + r.ToString("O") : "live")}");
                    return 0;
                default:
                    error.WriteLine("usage: ksctl-server apikey create --name NAME --role reader|operator|admin [--home DIR] | revoke --name NAME | list");
                    return 2;
            }
        }
        catch (ArgumentException ex)
        {
            error.WriteLine(ex.Message);
            return 2;
        }
    }
}
