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

    /// <param name="services">What providers are built with.</param>
    /// <param name="storedSecret">The secret of the provider's stored credential (Set-KsctlCredential), asked for lazily.</param>
    public static ProviderRegistry CreateDefault(KsctlServices services, Func<CloudProvider, CancellationToken, Task<string?>>? storedSecret = null) => new ProviderRegistry()
        .Register(new Local.LocalProvider(services))
        .Register(new BareMetal.BareMetalProvider())
        .Register(new Civo.CivoProvider(services) { StoredToken = storedSecret is null ? null : ct => storedSecret(CloudProvider.Civo, ct) });
}
