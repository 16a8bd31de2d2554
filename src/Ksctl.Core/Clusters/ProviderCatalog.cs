using Ksctl.Core.Configuration;
using Ksctl.Core.Model;
using Ksctl.Core.Processes;
using Ksctl.Core.Providers;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ksctl.Core.Clusters;

/// <summary>
/// Which providers this build registers, read from <see cref="ProviderRegistry.CreateDefault"/> itself, so that
/// -Provider validation, Tab completion and help offer exactly what runs (a provider added there appears everywhere
/// without another edit). Building the registry touches no configuration, store, network or process.
/// </summary>
public static class ProviderCatalog
{
    private static readonly Lazy<(IReadOnlyList<CloudProvider> All, IReadOnlyList<CloudProvider> Credentials)> Registered = new(Read);

    /// <summary>Every registered provider, in <see cref="CloudProvider"/> order.</summary>
    public static IReadOnlyList<CloudProvider> Available => Registered.Value.All;

    /// <summary>The registered providers that take a cloud credential (Set-KsctlCredential, -Credential).</summary>
    public static IReadOnlyList<CloudProvider> TakingCredentials => Registered.Value.Credentials;

    private static (IReadOnlyList<CloudProvider>, IReadOnlyList<CloudProvider>) Read()
    {
        var home = Path.Combine(Path.GetTempPath(), "ksctl-provider-catalog");
        var settings = new KsctlSettings { Home = home, StatePath = Path.Combine(home, "state") };
        var services = new KsctlServices(settings, NullLoggerFactory.Instance, new ProcessRunner(), TimeProvider.System);
        var registry = ProviderRegistry.CreateDefault(services);
        var all = registry.All.Select(p => p.Descriptor.Provider).Order().ToList();
        return (all, registry.TakingCredentials.Order().ToList());
    }
}
