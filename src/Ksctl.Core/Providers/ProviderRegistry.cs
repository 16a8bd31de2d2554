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

    public static ProviderRegistry CreateDefault(KsctlServices services) => new ProviderRegistry()
        .Register(new Local.LocalProvider(services))
        .Register(new BareMetal.BareMetalProvider())
        .Register(new Civo.CivoProvider(services));
}
