namespace Ksctl.Core.Providers;

/// <summary>
/// A provider that can list its regions and node sizes live from the cloud (for Tab completion when credentials are
/// present). Callers bound the time and fall back to <see cref="ProviderDescriptor"/>'s static lists on any failure.
/// </summary>
public interface ILiveCatalog
{
    Task<IReadOnlyList<string>> RegionsAsync(CancellationToken ct);

    /// <summary>Sizes of managed-cluster nodes (what -NodeSize takes), in <paramref name="region"/> when the cloud tells regions apart.</summary>
    Task<IReadOnlyList<string>> NodeSizesAsync(string? region, CancellationToken ct);
}
