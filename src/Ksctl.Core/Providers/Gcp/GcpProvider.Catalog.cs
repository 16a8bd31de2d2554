using System.Text.Json.Nodes;

namespace Ksctl.Core.Providers.Gcp;

/// <summary>
/// Live Tab lists from Compute (regions.list with their zones; machineTypes.list of a zone) when a key is at hand
/// (-CredentialPath is not bound at Tab time: the stored key or GOOGLE_APPLICATION_CREDENTIALS). Application Default
/// Credentials are never probed here; without a key this throws and the caller uses the descriptor's static lists.
/// </summary>
internal sealed partial class GcpProvider : ILiveCatalog
{
    private async Task<(GcpRestClient Client, string Project)> CatalogClientAsync(CancellationToken ct)
    {
        var signIn = await GcpCredentials.ResolveAsync(ExplicitCredential, StoredCredential, _endpoints, ct, probe: false).ConfigureAwait(false);
        var project = signIn.Project ?? throw new InvalidOperationException("No GCP project for Tab completion.");
        GcpCredentials.CheckProject(project, "Project");
        return (new GcpRestClient(signIn, _endpoints, _logger, _time), project);
    }

    public async Task<IReadOnlyList<string>> RegionsAsync(CancellationToken ct)
    {
        var (client, project) = await CatalogClientAsync(ct).ConfigureAwait(false);
        var regions = await client.ListAsync(ComputeUrl($"projects/{project}/regions"), "regions", ct).ConfigureAwait(false);
        var names = new List<string>();
        foreach (var region in regions.Where(r => GcpRestClient.Text(r, "status") != "DOWN"))
        {
            if (GcpRestClient.Text(region, "name") is not { } name || !GcpLocations.IsRegion(name)) continue;
            names.Add(name);
            // Zones too: a zone makes a zonal GKE cluster, or pins self-managed instances to it.
            names.AddRange((region["zones"] as JsonArray ?? []).Select(z => z is JsonValue v && v.TryGetValue<string>(out var s) ? s[(s.LastIndexOf('/') + 1)..] : null)
                .Where(z => z is not null && GcpLocations.IsZone(z) && GcpNames.RegionOf(z) == name)!);
        }
        return names.Distinct().Order(StringComparer.Ordinal).ToList();
    }

    public async Task<IReadOnlyList<string>> NodeSizesAsync(string? region, CancellationToken ct)
    {
        var (client, project) = await CatalogClientAsync(ct).ConfigureAwait(false);
        var location = (region ?? Descriptor.DefaultRegion).ToLowerInvariant();
        string? zone = GcpLocations.IsZone(location) ? location : null;
        if (zone is null && GcpLocations.IsRegion(location))
        {
            var r = await client.GetAsync(ComputeUrl($"projects/{project}/regions/{location}"), $"region {location}", ct).ConfigureAwait(false);
            zone = (r?["zones"] as JsonArray ?? []).Select(z => z is JsonValue v && v.TryGetValue<string>(out var s) ? s[(s.LastIndexOf('/') + 1)..] : null)
                .Where(z => z is not null && GcpLocations.IsZone(z)).Order(StringComparer.Ordinal).FirstOrDefault();
        }
        if (zone is null) return Descriptor.NodeSizes;
        var types = await client.ListAsync(ComputeUrl($"projects/{project}/zones/{zone}/machineTypes"), $"machine types in {zone}", ct).ConfigureAwait(false);
        return types.Select(t => GcpRestClient.Text(t, "name")).Where(n => n is not null && GcpNames.IsName(n)).Select(n => n!).Distinct().Order(StringComparer.Ordinal).ToList();
    }
}
