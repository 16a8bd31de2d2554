using Ksctl.Core.Model;
using Ksctl.Server.Hosting;
using Ksctl.Server.Security;
using System.Security.Claims;

namespace Ksctl.Server.Api;

/// <summary>/api/v1/providers (the catalogue the create form offers) and /api/v1/me (who the key is).</summary>
internal static class CatalogEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/providers", (ServerContext server) => TypedResults.Ok(server.Manager.Providers.Select(d => new ProviderInfo
            {
                Provider = d.Provider.ToString(),
                Types = d.SupportedTypes.Select(t => t.ToString()).ToList(),
                DefaultRegion = d.DefaultRegion,
                Regions = d.Regions.ToList(),
                RegionIsLabel = d.RegionIsLabel,
                NodeSizes = d.NodeSizes.ToList(),
                DefaultNodeSize = d.DefaultNodeSize,
                MachineSizes = d.MachineSizes.ToList(),
                DefaultNodeCount = d.DefaultNodeCount,
                KubernetesVersions = [d.DefaultKubernetesVersion],
                Distributions = d.SupportedTypes.Contains(ClusterType.SelfManaged) ? Enum.GetNames<DistributionKind>() : [],
            }).ToList()))
            .RequireAuthorization(Policies.Reader).WithTags("Catalogue")
            .WithName("ListProviders").WithSummary("The providers with their cluster types, regions, sizes and Kubernetes versions.");
        api.MapGet("/me", (ClaimsPrincipal user) => TypedResults.Ok(new WhoAmI(user.Identity!.Name!, RoleRequirements.RoleOf(user)!.Value.ToString())))
            .RequireAuthorization(Policies.Reader).WithTags("Catalogue")
            .WithName("WhoAmI").WithSummary("The API key's name and role.");
    }
}
