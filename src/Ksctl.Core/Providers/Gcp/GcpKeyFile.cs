using Ksctl.Core.Model;
using Ksctl.Core.Storage.Credentials;

namespace Ksctl.Core.Providers.Gcp;

/// <summary>Set-KsctlCredential -Provider Gcp -Path key.json: the key file checked and turned into a stored credential.</summary>
public static class GcpKeyFile
{
    /// <summary>
    /// The credential to store: user name = the service account's e-mail, secret = the key file's JSON (encrypted at rest
    /// like every stored secret). Throws <see cref="Diagnostics.InvalidSpecException"/> naming -Path for anything that
    /// is not a readable service-account key file.
    /// </summary>
    public static StoredCredential ToStoredCredential(string path, string? region = null)
    {
        var key = GcpCredentials.ReadKeyFile(path, "Path");
        return new StoredCredential
        {
            Provider = CloudProvider.Gcp,
            UserName = key.ClientEmail,
            Secret = File.ReadAllText(path),
            Region = region,
        };
    }
}
