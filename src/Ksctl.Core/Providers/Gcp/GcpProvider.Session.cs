using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Gcp;

/// <summary>Signing in, the project (recorded in state at first use) and the zone instances go to.</summary>
internal sealed partial class GcpProvider
{
    internal const string ProjectKey = "gcp:project";
    internal const string ZoneKey = "gcp:zone";

    /// <summary>The client and the project: the recorded one (checked), else -Project, the credential's, GOOGLE_CLOUD_PROJECT.</summary>
    internal async Task<(GcpRestClient Client, string Project)> ConnectAsync(string? recorded, CancellationToken ct)
    {
        var signIn = await GcpCredentials.ResolveAsync(ExplicitCredential, StoredCredential, _endpoints, ct).ConfigureAwait(false);
        _logger.LogDebug("GCP: signing in with the {SignIn}.", signIn.ToString());
        var client = new GcpRestClient(signIn, _endpoints, _logger, _time);
        if (recorded is not null)
        {
            GcpCredentials.CheckProject(recorded, "Project");
            return (client, recorded);
        }
        var project = signIn.Project ?? throw new InvalidSpecException("Project",
            $"no GCP project was given: use -Project, a key file with project_id, or {GcpCredentials.ProjectVariable}.");
        // A bad key fails here, before the first request that would create anything.
        await signIn.Token(ct).ConfigureAwait(false);
        return (client, project);
    }

    /// <summary>An access token from the credential chain (for kubectl's exec plugin); a refused key is KsctlAuthenticationFailed.</summary>
    internal async Task<(string Token, DateTimeOffset? Expiry)> AccessTokenAsync(CancellationToken ct)
    {
        var signIn = await GcpCredentials.ResolveAsync(ExplicitCredential, StoredCredential, _endpoints, ct).ConfigureAwait(false);
        var token = await signIn.Token(ct).ConfigureAwait(false);
        return (token, signIn.Expiry());
    }

    /// <summary>The client and names of this cluster (project recorded on first use).</summary>
    internal async Task<(GcpRestClient Client, GcpNames Names)> SessionAsync(StepContext ctx, CancellationToken ct)
    {
        var recorded = Recorded(ctx, ProjectKey);
        var (client, project) = await ConnectAsync(recorded, ct).ConfigureAwait(false);
        if (recorded is null)
        {
            // Parallel first steps may race here: the first one recorded wins for all.
            ctx.Mutate(s => s.Resources.TryAdd(ProjectKey, project));
            await ctx.Session.CheckpointAsync().ConfigureAwait(false);
            project = Recorded(ctx, ProjectKey)!;
        }
        return (client, new GcpNames(project, ctx.State.Id));
    }

    internal static string? Recorded(StepContext ctx, string key) => ctx.Session.Read(s => s.Resources.GetValueOrDefault(key));

    internal Uri ComputeUrl(string path) => new(_endpoints.Compute, path);
    internal Uri ContainerUrl(string path) => new(_endpoints.Container, path);

    /// <summary>
    /// The zone of the cluster's instances: the one given as -Region, else the first zone of the region that Compute
    /// reports UP (regions.get; zone letters differ per region), recorded once and checked when read back.
    /// </summary>
    internal async Task<string> ZoneAsync(StepContext ctx, GcpRestClient client, GcpNames names, CancellationToken ct)
    {
        var location = ctx.State.Id.Region;
        if (GcpLocations.IsZone(location)) return location;
        if (Recorded(ctx, ZoneKey) is { } z)
            return GcpLocations.IsZone(z) && GcpNames.RegionOf(z) == location ? z
                : throw new KsctlException("KsctlStateCorrupt", KsctlErrorCategory.InvalidData, $"The recorded zone '{Model.ClusterId.Printable(z)}' is not a zone of {location}.", ctx.State.Id.Name);
        var region = await client.GetAsync(ComputeUrl($"projects/{names.Project}/regions/{location}"), $"region {location}", ct).ConfigureAwait(false)
            ?? throw new InvalidSpecException("Region", $"Compute Engine has no region '{location}' in project {names.Project}.");
        var zones = new List<string>();
        foreach (var link in (region["zones"] as System.Text.Json.Nodes.JsonArray ?? []).Select(n => n is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var s) ? s : null))
        {
            var name = link?[(link.LastIndexOf('/') + 1)..];
            if (name is not null && GcpLocations.IsZone(name) && GcpNames.RegionOf(name) == location) zones.Add(name);
        }
        foreach (var candidate in zones.Order(StringComparer.Ordinal))
        {
            var zone = await client.GetAsync(ComputeUrl($"projects/{names.Project}/zones/{candidate}"), $"zone {candidate}", ct).ConfigureAwait(false);
            if (GcpRestClient.Text(zone, "status") == "UP")
            {
                ctx.Mutate(s => s.Resources.TryAdd(ZoneKey, candidate));
                await ctx.Session.CheckpointAsync().ConfigureAwait(false);
                return Recorded(ctx, ZoneKey)!;
            }
        }
        throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ResourceUnavailable, $"GCP region {location} has no zone that is UP.", "Gcp");
    }
}
