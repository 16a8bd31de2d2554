using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers;

/// <summary>The providers this build offers. Adding one is one folder under Providers/ and one line in <see cref="CreateDefault"/>.</summary>
internal sealed class ProviderRegistry
{
    private readonly Dictionary<CloudProvider, ICloudProvider> _providers = new();
    private readonly Dictionary<CloudProvider, Func<ProviderCredential, ICloudProvider>> _withCredential = new();

    /// <param name="provider">The provider, shared by every operation.</param>
    /// <param name="withCredential">
    /// For providers that take -Credential: a copy bound to the credential of one operation (the shared instance never
    /// holds it). Null: the provider uses no cloud credential.
    /// </param>
    public ProviderRegistry Register(ICloudProvider provider, Func<ProviderCredential, ICloudProvider>? withCredential = null)
    {
        _providers[provider.Descriptor.Provider] = provider;
        if (withCredential is null) _withCredential.Remove(provider.Descriptor.Provider);
        else _withCredential[provider.Descriptor.Provider] = withCredential;
        return this;
    }

    public IReadOnlyCollection<ICloudProvider> All => _providers.Values;

    /// <summary>The providers registered with a credential binder (they take -Credential and stored credentials).</summary>
    public IEnumerable<CloudProvider> TakingCredentials => _withCredential.Keys;

    public ICloudProvider Get(CloudProvider provider) =>
        _providers.TryGetValue(provider, out var p)
            ? p
            : throw new ProviderNotAvailableException(provider.ToString(),
                $"The {provider} provider is not available in this version of Ksctl. Available: {string.Join(", ", _providers.Keys)}.");

    /// <summary>
    /// The provider, bound to <paramref name="credential"/> when one was given for this operation (-Credential). A provider
    /// that takes no credential refuses one rather than silently ignoring it.
    /// </summary>
    public ICloudProvider Get(CloudProvider provider, ProviderCredential? credential)
    {
        var p = Get(provider);
        if (credential is null) return p;
        if (!p.Descriptor.HasTenantsAndSubscriptions && credential.TenantId is not null)
            throw new InvalidSpecException("TenantId", $"applies to Azure only; the {provider} provider has no tenants.");
        if (provider != CloudProvider.Aws && credential.ProfileName is not null)
            throw new InvalidSpecException("ProfileName", $"applies to Aws only; the {provider} provider has no AWS profiles.");
        if (!p.Descriptor.HasTenantsAndSubscriptions && credential.SubscriptionId is not null)
            throw new InvalidSpecException("SubscriptionId", $"applies to Azure only; the {provider} provider has no subscriptions.");
        if (provider != CloudProvider.Gcp && credential.CredentialPath is not null)
            throw new InvalidSpecException("CredentialPath", $"applies to Gcp only (a service-account key file); the {provider} provider takes -Credential.");
        if (provider != CloudProvider.Gcp && credential.Project is not null)
            throw new InvalidSpecException("Project", $"applies to Gcp only; the {provider} provider has no projects.");
        return _withCredential.TryGetValue(provider, out var bind)
            ? bind(credential)
            : throw new InvalidSpecException("Credential", $"the {provider} provider uses no cloud credential; leave -Credential out.");
    }

    /// <param name="services">What providers are built with.</param>
    /// <param name="stored">The provider's stored credential (Set-KsctlCredential), asked for lazily.</param>
    /// <param name="azure">Where Azure Resource Manager and Entra ID are (tests point them at the ARM emulator).</param>
    /// <param name="aws">Where the AWS services are (tests point them at the AWS emulator).</param>
    /// <param name="gcp">Where Compute Engine, GKE and Google's token endpoint are (tests point them at the GCP emulator).</param>
    public static ProviderRegistry CreateDefault(KsctlServices services, Func<CloudProvider, CancellationToken, Task<Storage.Credentials.StoredCredential?>>? stored = null,
        Azure.AzureEndpoints? azure = null, Aws.AwsEndpoints? aws = null, Gcp.GcpEndpoints? gcp = null)
    {
        Func<CancellationToken, Task<Storage.Credentials.StoredCredential?>>? awsStored = stored is null ? null : ct => stored(CloudProvider.Aws, ct);
        var awsEndpoints = aws ?? Aws.AwsEndpoints.Public;
        Func<CancellationToken, Task<string?>>? civoKey = stored is null ? null : async ct => (await stored(CloudProvider.Civo, ct).ConfigureAwait(false))?.Secret;
        Func<CancellationToken, Task<Storage.Credentials.StoredCredential?>>? azureStored = stored is null ? null : ct => stored(CloudProvider.Azure, ct);
        var endpoints = azure ?? Azure.AzureEndpoints.PublicCloud;
        Func<CancellationToken, Task<Storage.Credentials.StoredCredential?>>? gcpStored = stored is null ? null : ct => stored(CloudProvider.Gcp, ct);
        var gcpEndpoints = gcp ?? Gcp.GcpEndpoints.Public;
        return new ProviderRegistry()
            .Register(new Local.LocalProvider(services))
            .Register(new BareMetal.BareMetalProvider())
            .Register(new Civo.CivoProvider(services) { StoredToken = civoKey },
                credential => new Civo.CivoProvider(services) { StoredToken = civoKey, ExplicitToken = credential.Secret })
            .Register(new Azure.AzureProvider(services, endpoints) { StoredCredential = azureStored },
                credential => new Azure.AzureProvider(services, endpoints) { StoredCredential = azureStored, ExplicitCredential = credential })
            .Register(new Aws.AwsProvider(services, awsEndpoints) { StoredCredential = awsStored },
                credential => new Aws.AwsProvider(services, awsEndpoints) { StoredCredential = awsStored, ExplicitCredential = credential })
            .Register(new Gcp.GcpProvider(services, gcpEndpoints) { StoredCredential = gcpStored },
                credential => new Gcp.GcpProvider(services, gcpEndpoints) { StoredCredential = gcpStored, ExplicitCredential = credential });
    }
}
