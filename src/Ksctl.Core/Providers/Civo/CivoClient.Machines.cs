namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// The parts of Civo's API v2 that self-managed clusters use: networks, firewalls and their rules, SSH keys, disk
/// images, instances, plus the region and size catalogues. Creates are not idempotent (a lost answer may still have
/// created the resource), so they surface <see cref="CivoTransientException"/> and the caller looks before retrying.
/// Gets and deletes return null/false for a 404.
/// </summary>
internal sealed partial class CivoClient
{
    private static string Q(string value) => Uri.EscapeDataString(value);

    /// <summary>A Civo id for a path, refused (KsctlStateInvalid) unless it has the shape of one.</summary>
    private static string Id(string id, string what) => CivoEndpoint.Id(id, what);

    private async Task<List<T>> ArrayAsync<T>(string path, CancellationToken ct) =>
        Deserialize<List<T>>((await SendAsync(HttpMethod.Get, path, null, idempotent: true, ct).ConfigureAwait(false))!);

    private async Task<T?> GetOrNullAsync<T>(string path, CancellationToken ct) where T : class
    {
        var json = await SendAsync(HttpMethod.Get, path, null, idempotent: true, ct, notFoundIsNull: true).ConfigureAwait(false);
        return json is null ? null : Deserialize<T>(json);
    }

    private async Task<bool> DeleteOrGoneAsync(string path, CancellationToken ct) =>
        await SendAsync(HttpMethod.Delete, path, null, idempotent: true, ct, notFoundIsNull: true).ConfigureAwait(false) is not null;

    private async Task<T> PostAsync<T>(string path, object body, CancellationToken ct) =>
        Deserialize<T>((await SendAsync(HttpMethod.Post, path, body, idempotent: false, ct).ConfigureAwait(false))!);

    // Networks
    public Task<List<CivoNetwork>> ListNetworksAsync(string region, CancellationToken ct) => ArrayAsync<CivoNetwork>($"networks?region={Q(region)}", ct);
    public Task<CivoNetwork?> GetNetworkAsync(string id, string region, CancellationToken ct) => GetOrNullAsync<CivoNetwork>($"networks/{Id(id, "network")}?region={Q(region)}", ct);
    public Task<CivoResult> CreateNetworkAsync(CivoNetworkRequest request, CancellationToken ct) => PostAsync<CivoResult>("networks", request, ct);
    public Task<bool> DeleteNetworkAsync(string id, string region, CancellationToken ct) => DeleteOrGoneAsync($"networks/{Id(id, "network")}?region={Q(region)}", ct);

    // Firewalls and rules
    public Task<List<CivoFirewall>> ListFirewallsAsync(string region, CancellationToken ct) => ArrayAsync<CivoFirewall>($"firewalls?region={Q(region)}", ct);
    public Task<CivoResult> CreateFirewallAsync(CivoFirewallRequest request, CancellationToken ct) => PostAsync<CivoResult>("firewalls", request, ct);
    public Task<bool> DeleteFirewallAsync(string id, string region, CancellationToken ct) => DeleteOrGoneAsync($"firewalls/{Id(id, "firewall")}?region={Q(region)}", ct);
    public Task<List<CivoFirewallRule>> ListFirewallRulesAsync(string firewallId, string region, CancellationToken ct) =>
        ArrayAsync<CivoFirewallRule>($"firewalls/{Id(firewallId, "firewall")}/rules?region={Q(region)}", ct);
    public Task<CivoFirewallRule> CreateFirewallRuleAsync(string firewallId, CivoFirewallRule rule, CancellationToken ct) =>
        PostAsync<CivoFirewallRule>($"firewalls/{Id(firewallId, "firewall")}/rules", rule, ct);

    // SSH keys (account-wide)
    public Task<List<CivoSshKey>> ListSshKeysAsync(CancellationToken ct) => ArrayAsync<CivoSshKey>("sshkeys", ct);
    public Task<CivoResult> CreateSshKeyAsync(CivoSshKeyRequest request, CancellationToken ct) => PostAsync<CivoResult>("sshkeys", request, ct);
    public Task<bool> DeleteSshKeyAsync(string id, CancellationToken ct) => DeleteOrGoneAsync($"sshkeys/{Id(id, "SSH key")}", ct);

    // Disk images
    public Task<List<CivoDiskImage>> ListDiskImagesAsync(string region, CancellationToken ct) => ArrayAsync<CivoDiskImage>($"disk_images?region={Q(region)}", ct);

    // Instances
    public Task<CivoMachine> CreateInstanceAsync(CivoMachineRequest request, CancellationToken ct) => PostAsync<CivoMachine>("instances", request, ct);
    public Task<CivoMachine?> GetInstanceAsync(string id, string region, CancellationToken ct) => GetOrNullAsync<CivoMachine>($"instances/{Id(id, "instance")}?region={Q(region)}", ct);
    public Task<bool> DeleteInstanceAsync(string id, string region, CancellationToken ct) => DeleteOrGoneAsync($"instances/{Id(id, "instance")}?region={Q(region)}", ct);

    /// <summary>Every instance of the region, page by page: one call for a cluster's instances (the budget is per minute).</summary>
    public Task<List<CivoMachine>> ListInstancesAsync(string region, CancellationToken ct) => PagesAsync<CivoMachine>($"instances?region={Q(region)}", ct);

    // Catalogues (live Tab completion)
    public Task<List<CivoRegion>> ListRegionsAsync(CancellationToken ct) => ArrayAsync<CivoRegion>("regions", ct);
    public Task<List<CivoSize>> ListSizesAsync(CancellationToken ct) => ArrayAsync<CivoSize>("sizes", ct);
}
