namespace Ksctl.Core.Providers.Azure;

/// <summary>
/// The ARM api-versions Ksctl speaks (each a stable version documented in azure-rest-api-specs). Pinned on purpose: the
/// JSON bodies in <see cref="AzureBodies"/> follow these versions' schemas, and a pinned version never needs the
/// provider-metadata round trip that an unpinned generic call makes.
/// </summary>
internal static class AzureApiVersions
{
    /// <summary>Microsoft.Resources/subscriptions and resourceGroups.</summary>
    public const string Resources = "2021-04-01";
    public const string Subscriptions = "2022-12-01";
    /// <summary>Microsoft.ContainerService/managedClusters (+ listClusterAdminCredential).</summary>
    public const string ContainerService = "2024-09-01";
    /// <summary>Microsoft.Network: virtualNetworks, networkSecurityGroups, publicIPAddresses, networkInterfaces.</summary>
    public const string Network = "2024-05-01";
    /// <summary>Microsoft.Compute/virtualMachines.</summary>
    public const string Compute = "2024-07-01";
}
