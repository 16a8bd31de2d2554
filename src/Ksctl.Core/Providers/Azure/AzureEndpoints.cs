using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

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
}
