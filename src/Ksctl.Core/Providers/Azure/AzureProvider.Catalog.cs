using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Azure;

/// <summary>What ARM offers: regions and VM sizes for Tab completion, and AKS's Kubernetes versions of a region.</summary>
internal sealed partial class AzureProvider
{
    /// <summary>
    /// The subscription's physical regions (ARM also lists logical ones such as "global" or "europe", which no resource can
    /// be created in), sorted. Empty, with nothing sent, when no credential is at hand without probing or no subscription
    /// is known; a refused credential throws (KsctlAuthenticationFailed), as Civo's catalogue does.
    /// </summary>
    public async Task<IReadOnlyList<string>> RegionsAsync(CancellationToken ct)
    {
        if (await CatalogSessionAsync(ct).ConfigureAwait(false) is not var (client, subscription)) return [];
        var locations = await client.ListAsync($"/subscriptions/{subscription}/locations", AzureApiVersions.Subscriptions, "list locations", ct, register: false).ConfigureAwait(false);
        return locations
            .Where(l => string.Equals(l["metadata"]?["regionType"]?.GetValue<string>(), "Physical", StringComparison.OrdinalIgnoreCase))
            .Select(l => l["name"]?.GetValue<string>())
            .OfType<string>()
            .Where(n => n.Length > 0)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// The VM sizes offered in <paramref name="region"/> (else the default region), sorted; AKS node pools and HA VMs take
    /// the same sizes. Same credential rules as <see cref="RegionsAsync"/>.
    /// </summary>
    public async Task<IReadOnlyList<string>> NodeSizesAsync(string? region, CancellationToken ct)
    {
        var location = string.IsNullOrWhiteSpace(region) ? Descriptor.DefaultRegion! : region.Trim();
        // A location name is letters and digits ("eastus2"); anything else (a half-typed "East US", a path) is no region
        // ARM knows, and must not become part of the request path.
        if (!LocationName.IsMatch(location)) return [];
        if (await CatalogSessionAsync(ct).ConfigureAwait(false) is not var (client, subscription)) return [];
        var sizes = await client.ListAsync($"/subscriptions/{subscription}/providers/Microsoft.Compute/locations/{location.ToLowerInvariant()}/vmSizes",
            AzureApiVersions.Compute, $"list VM sizes in {location}", ct, register: false).ConfigureAwait(false);
        return sizes
            .Select(s => s["name"]?.GetValue<string>())
            .OfType<string>()
            .Where(n => n.Length > 0)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Order(StringComparer.OrdinalIgnoreCase)
            .ToList();
    }

    private static readonly Regex LocationName = new(@"^[A-Za-z0-9]{1,40}\z", RegexOptions.CultureInvariant);

    /// <summary>
    /// The ARM client and subscription for the catalogue, or null when either is missing. Unlike <see cref="ConnectAsync"/>
    /// this never falls back to DefaultAzureCredential (slow probing, possibly a prompt: not for a Tab press) and never
    /// lists subscriptions to guess one (an extra round trip inside the completer's budget); the subscription is the one
    /// given with the credential, the stored credential's, or AZURE_SUBSCRIPTION_ID.
    /// </summary>
    private async Task<(ArmRestClient Client, string Subscription)?> CatalogSessionAsync(CancellationToken ct)
    {
        var signIn = await AzureCredentials.ResolveWithoutProbingAsync(ExplicitCredential, StoredCredential, _endpoints, ct).ConfigureAwait(false);
        if (signIn is null)
        {
            _logger.LogDebug("Azure catalogue: no client secret at hand (stored credential or {Variable} and friends); not asking Azure.", AzureCredentials.ClientSecretVariable);
            return null;
        }
        if (signIn.SubscriptionId is not { } subscription)
        {
            _logger.LogDebug("Azure catalogue: the {SignIn} names no subscription (Set-KsctlCredential -SubscriptionId or {Variable}); not asking Azure.", signIn.ToString(), AzureCredentials.SubscriptionIdVariable);
            return null;
        }
        // The subscription goes into the request path: only a GUID, as ARM names subscriptions.
        if (!Guid.TryParse(subscription, out _)) return null;
        return (new ArmRestClient(signIn, _endpoints, _logger, _time), subscription);
    }

    /// <summary>A Kubernetes version as AKS lists it: major.minor or major.minor.patch.</summary>
    private static readonly Regex AksVersion = new(@"^[0-9]{1,2}\.[0-9]{1,3}(\.[0-9]{1,3})?\z", RegexOptions.CultureInvariant);

    /// <summary>
    /// The version to create: the one given, else the one chosen on an earlier run (the same body on a re-run), else
    /// the default of ARM's list for the region (GET …/providers/Microsoft.ContainerService/locations/{location}/
    /// kubernetesVersions, managedClusters.json 2024-09-01: <c>values[]</c> with <c>version</c>, <c>isDefault</c>,
    /// <c>isPreview</c>), else the newest non-preview one. Recorded before the PUT.
    /// </summary>
    private async Task<string> AksVersionAsync(Engine.StepContext ctx, ArmRestClient client, Model.ClusterSpec spec, CancellationToken ct)
    {
        if (spec.KubernetesVersion is { } given) return given;
        if (Recorded(ctx, AzureResourceKeys.AksVersion) is { } chosen && AksVersion.IsMatch(chosen)) return chosen;
        var subscription = Recorded(ctx, AzureResourceKeys.Subscription)!;
        var location = spec.Id.Region.ToLowerInvariant();
        var listed = await client.ListAsync($"/subscriptions/{subscription}/providers/Microsoft.ContainerService/locations/{location}/kubernetesVersions",
            AzureApiVersions.ContainerService, $"list AKS Kubernetes versions in {location}", ct, itemsProperty: "values").ConfigureAwait(false);
        var stable = listed
            .Where(v => v["isPreview"]?.GetValueKind() != System.Text.Json.JsonValueKind.True)
            .Select(v => (Version: v["version"] is System.Text.Json.Nodes.JsonValue s && s.TryGetValue<string>(out var t) ? t : null,
                Default: v["isDefault"]?.GetValueKind() == System.Text.Json.JsonValueKind.True))
            .Where(v => v.Version is not null && AksVersion.IsMatch(v.Version))
            .ToList();
        var pick = stable.FirstOrDefault(v => v.Default).Version
            ?? stable.Select(v => v.Version!).OrderByDescending(v => Version.Parse(v)).FirstOrDefault()
            ?? throw new Diagnostics.KsctlException("KsctlCloudApiError", Diagnostics.KsctlErrorCategory.ResourceUnavailable,
                $"Azure lists no generally available AKS Kubernetes version in {location}; give -KubernetesVersion or choose another -Region.", "Azure");
        _logger.LogInformation("AKS in {Region}: Kubernetes {Version} ({Why}).", location, pick, stable.Any(v => v.Default) ? "the region's default" : "the newest generally available");
        await RecordAsync(ctx, AzureResourceKeys.AksVersion, pick).ConfigureAwait(false);
        return pick;
    }
}
