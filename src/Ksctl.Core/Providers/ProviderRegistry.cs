using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers;

/// <summary>The providers this build offers. Adding one is one folder under Providers/ and one line in <see cref="CreateDefault"/>.</summary>
internal sealed class ProviderRegistry
{
    private readonly Dictionary<CloudProvider, ICloudProvider> _providers = new();

    public ProviderRegistry Register(ICloudProvider provider)
    {
        _providers[provider.Descriptor.Provider] = provider;
        return this;
    }

    public IReadOnlyCollection<ICloudProvider> All => _providers.Values;

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
        if (provider != CloudProvider.Azure && credential.TenantId is not null)
            throw new InvalidSpecException("TenantId", $"applies to Azure only; the {provider} provider has no tenants.");
        if (provider != CloudProvider.Azure && credential.SubscriptionId is not null)
            throw new InvalidSpecException("SubscriptionId", $"applies to Azure only; the {provider} provider has no subscriptions.");
        return p is ICredentialScopedProvider scoped
            ? scoped.WithCredential(credential)
            : throw new InvalidSpecException("Credential", $"the {provider} provider uses no cloud credential; leave -Credential out.");
    }

    /// <param name="services">What providers are built with.</param>
    /// <param name="stored">The provider's stored credential (Set-KsctlCredential), asked for lazily.</param>
    /// <param name="azure">Where Azure Resource Manager and Entra ID are (tests point them at the ARM emulator).</param>
    public static ProviderRegistry CreateDefault(KsctlServices services, Func<CloudProvider, CancellationToken, Task<Storage.Credentials.StoredCredential?>>? stored = null,
        Azure.AzureEndpoints? azure = null) => new ProviderRegistry()
        .Register(new Local.LocalProvider(services))
        .Register(new BareMetal.BareMetalProvider())
        .Register(new Civo.CivoProvider(services) { StoredToken = stored is null ? null : async ct => (await stored(CloudProvider.Civo, ct).ConfigureAwait(false))?.Secret })
        .Register(new Azure.AzureProvider(services, azure ?? Azure.AzureEndpoints.PublicCloud)
        {
            StoredCredential = stored is null ? null : ct => stored(CloudProvider.Azure, ct),
        });
}
