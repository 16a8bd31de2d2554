using System.Text.RegularExpressions;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions.Artifacts;
using Ksctl.Core.Model;
using Ksctl.Core.Storage.Credentials;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Gcp;

/// <summary>
/// Google Cloud: managed GKE clusters (GcpProvider.Managed.cs) and self-managed HA clusters on Compute Engine instances
/// (GcpProvider.Machines.cs). Credentials come from <see cref="GcpCredentials"/>, the REST calls from
/// <see cref="GcpRestClient"/>; the project is recorded in the cluster's state at first use, so a resumed or later
/// operation addresses the same project whatever the environment says then (GcpProvider.Session.cs).
/// </summary>
internal sealed partial class GcpProvider : IPreflightProvider
{
    private static readonly Regex MachineType = new("^[a-z][a-z0-9]{0,9}-[a-z0-9][a-z0-9-]{0,40}\\z", RegexOptions.CultureInvariant);

    private readonly GcpEndpoints _endpoints;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public GcpProvider(KsctlServices services, GcpEndpoints endpoints)
    {
        _endpoints = endpoints;
        _logger = services.Loggers.CreateLogger<GcpProvider>();
        _time = services.Time;
    }

    /// <summary>The stored credential (Set-KsctlCredential -Provider Gcp -Path key.json), asked for lazily.</summary>
    internal Func<CancellationToken, Task<StoredCredential?>>? StoredCredential { get; init; }

    /// <summary>-CredentialPath/-Project of this operation: first in the order (set only on the registry's per-operation copy).</summary>
    internal ProviderCredential? ExplicitCredential { get; init; }

    private static readonly string[] MachineTypes =
    [
        "e2-micro", "e2-small", "e2-medium", "e2-standard-2", "e2-standard-4", "e2-standard-8", "e2-highmem-2", "e2-highcpu-4",
        "n2-standard-2", "n2-standard-4", "n2-standard-8", "n2d-standard-2", "n2d-standard-4", "n4-standard-2", "n4-standard-4",
        "c3-standard-4", "c4-standard-2", "t2d-standard-1", "t2d-standard-2",
    ];

    public ProviderDescriptor Descriptor { get; } = new()
    {
        Provider = CloudProvider.Gcp,
        SupportedTypes = [ClusterType.Managed, ClusterType.SelfManaged],
        DefaultRegion = "us-central1",
        Regions =
        [
            "us-central1", "us-east1", "us-east4", "us-east5", "us-south1", "us-west1", "us-west2", "us-west3", "us-west4",
            "northamerica-northeast1", "northamerica-northeast2", "southamerica-east1", "southamerica-west1",
            "europe-west1", "europe-west2", "europe-west3", "europe-west4", "europe-west6", "europe-west8", "europe-west9", "europe-west10",
            "europe-west12", "europe-north1", "europe-central2", "europe-southwest1",
            "me-west1", "me-central1", "africa-south1",
            "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2", "asia-northeast3", "asia-south1", "asia-south2",
            "asia-southeast1", "asia-southeast2", "australia-southeast1", "australia-southeast2",
        ],
        NodeSizes = MachineTypes,
        MachineSizes = MachineTypes,
        DefaultNodeSize = "e2-standard-2",
        DefaultNodeCount = 1,
        DefaultKubernetesVersion = GkeDefaultVersion,
        ManagedDistributionName = "GKE",
    };

    internal const string MachineSize = "e2-medium";
    internal const string KubeadmWorkerSize = "e2-standard-2";
    internal const string SelfManagedKubernetesVersion = "1.33.1";
    internal const string GkeDefaultVersion = "GKE default";

    public ClusterSpec Prepare(ClusterSpec spec)
    {
        var location = Location(spec.Id.Region);
        if (spec.Id.Type == ClusterType.Managed)
        {
            SpecRules.NoSelfManagedFields(spec);
            SpecRules.NotApplicable("Application", spec.Applications, "GKE add-ons are not installed by Ksctl in this version; leave -Application out.");
            SpecRules.NotApplicable("Cni", spec.Cni, "GKE chooses its own dataplane; leave -Cni out.");
            if (spec.Id.Name.Length > GkeNameLimit)
                throw new InvalidSpecException("Name", $"'{spec.Id.Name}' is {spec.Id.Name.Length} characters; GKE cluster names are at most {GkeNameLimit}.");
            return spec with
            {
                Id = spec.Id with { Region = location },
                // Null: the default version of GKE's release channel, read when the cluster is created.
                KubernetesVersion = spec.KubernetesVersion is null ? null : SpecRules.Version(spec.KubernetesVersion, spec.KubernetesVersion, requirePatch: false),
                NodeSize = Size("NodeSize", spec.NodeSize ?? Descriptor.DefaultNodeSize!),
                NodeCount = SpecRules.Count("NodeCount", spec.NodeCount, Descriptor.DefaultNodeCount, 1, 100),
            };
        }
        return SpecRules.CloudSelfManaged(spec with { Id = spec.Id with { Region = location } }, "GCP", "instances", SelfManagedKubernetesVersion, MachineSize, KubeadmWorkerSize, Size);
    }

    /// <summary>A region (us-central1) or a zone (us-central1-a) of a known region, lower case.</summary>
    private string Location(string region)
    {
        var r = region.ToLowerInvariant();
        var isZone = GcpLocations.IsZone(r);
        if (!isZone && !GcpLocations.IsRegion(r))
            throw new InvalidSpecException("Region", $"'{region}' is not a GCP region or zone; use a region such as {Descriptor.DefaultRegion} (a regional GKE cluster) or a zone such as {Descriptor.DefaultRegion}-a.");
        if (!Descriptor.Regions.Contains(GcpNames.RegionOf(r)))
            throw new InvalidSpecException("Region", $"'{region}' is not in a GCP region Ksctl knows; use one of {string.Join(", ", Descriptor.Regions)} (or one of their zones).");
        return r;
    }

    /// <summary>A machine type as Compute spells it (family-shape); types outside the Tab list are accepted and Compute says if a zone lacks one.</summary>
    private static string Size(string parameter, string size)
    {
        var s = size.ToLowerInvariant();
        return MachineType.IsMatch(s) ? s : throw new InvalidSpecException(parameter, $"'{size}' is not a Compute Engine machine type; use a name like e2-standard-2 (Tab completes the common ones).");
    }

    /// <summary>
    /// Signs in (a token from Google's token endpoint) and reads the project before anything exists: a bad or revoked key,
    /// or a project the credential cannot see, fails here with KsctlAuthenticationFailed and nothing is created.
    /// </summary>
    public async Task PreflightAsync(ClusterSpec spec, CancellationToken cancellationToken)
    {
        var (client, project) = await ConnectAsync(null, cancellationToken).ConfigureAwait(false);
        try
        {
            if (await client.GetAsync(new Uri(_endpoints.Compute, $"projects/{project}"), $"project {project}", cancellationToken).ConfigureAwait(false) is null)
                throw GcpCredentials.Auth($"the project {project} does not exist or the credential cannot see it", "Give -Project (or GOOGLE_CLOUD_PROJECT) naming a project where the service account has roles.");
        }
        catch (KsctlException e) when (e.ErrorId == "KsctlCloudApiError" && e.Category == KsctlErrorCategory.SecurityError)
        {
            throw GcpCredentials.Auth($"the credential may not use project {project}: {e.Message}", "Grant the service account Compute Admin (and Kubernetes Engine Admin for GKE) in the project.");
        }
        _logger.LogInformation("GCP: signed in; using project {Project}.", project);
    }
}
