using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Providers.Azure;

/// <summary>
/// Where Azure Resource Manager and Entra ID are, and how patient to be with them. The default is the public cloud;
/// tests point both at the ARM emulator and trust its generated certificate through <see cref="ServerCertificateValidation"/>
/// (the only way the emulator's certificate is trusted: nothing process-wide changes).
/// </summary>
internal sealed record AzureEndpoints
{
    public static readonly AzureEndpoints PublicCloud = new()
    {
        ResourceManager = new Uri("https://management.azure.com/"),
        Authority = new Uri("https://login.microsoftonline.com/"),
    };

    /// <summary>The ARM endpoint (https).</summary>
    public required Uri ResourceManager { get; init; }
    /// <summary>The Entra ID authority host that issues tokens for service principals.</summary>
    public required Uri Authority { get; init; }
    /// <summary>The token audience; the public cloud's ARM audience unless overridden.</summary>
    public string Audience { get; init; } = "https://management.azure.com/";
    /// <summary>Extra server certificate check (tests only); null uses the system's trust.</summary>
    public Func<X509Certificate2?, X509Chain?, SslPolicyErrors, bool>? ServerCertificateValidation { get; init; }
    /// <summary>Entra instance discovery off (needed for a private authority such as the emulator).</summary>
    public bool DisableInstanceDiscovery { get; init; }
    /// <summary>First retry delay for 429/5xx when ARM gives no Retry-After (exponential with jitter from here).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(0.8);
    /// <summary>Lower bound between long-running-operation polls (ARM's Retry-After is honoured above it).</summary>
    public TimeSpan MinimumPollInterval { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>
    /// Tests only: DefaultAzureCredential tries no source of the host (managed identity/IMDS, Azure CLI, Az PowerShell,
    /// Visual Studio, VS Code, azd, the shared token cache, workload identity), so a test never signs in as the developer.
    /// </summary>
    public bool ExcludeHostCredentials { get; init; }

    /// <summary>
    /// Refuses an endpoint override that would send the bearer token or the client secret in clear text: both endpoints
    /// must be https, except on a loopback address (a local emulator or proxy). Checked before any request.
    /// </summary>
    public void Validate()
    {
        foreach (var (name, uri) in new[] { ("ResourceManager", ResourceManager), ("Authority", Authority) })
        {
            if (!uri.IsAbsoluteUri || string.IsNullOrEmpty(uri.Host))
                throw new InvalidSpecException(name, $"'{uri}' is not an absolute URL of an Azure endpoint.");
            var loopback = uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
            if (uri.Scheme != Uri.UriSchemeHttps && !(loopback && uri.Scheme == Uri.UriSchemeHttp))
                throw new InvalidSpecException(name, $"the Azure endpoint '{uri.GetLeftPart(UriPartial.Authority)}' must use https (plain http is accepted only on a loopback address); nothing was sent.");
        }
    }
}
