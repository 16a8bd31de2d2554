using Ksctl.Core.Addons;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.CloudControllers;

/// <summary>
/// A provider whose cloud controller manager Ksctl installs on its self-managed clusters (New-KsctlCluster
/// -CloudController), so that Services of type LoadBalancer and node lifecycle work. The distribution side is
/// common to every provider (<see cref="Distributions.ExternalCloudProvider"/>: the kubelet runs with
/// cloud-provider=external); a provider gives what is its own: the controller's pinned manifest, adapted to the
/// cluster, and the Secret holding its cloud credentials. Implementing this interface (and nothing else) is how a
/// provider (AWS, GCP, ...) offers -CloudController.
/// </summary>
internal interface ICloudControllerProvider
{
    /// <summary>
    /// The controller for this cluster. Must not touch the cloud or the cluster; throws <see cref="Diagnostics.InvalidSpecException"/>
    /// on "CloudController" when the credential cannot be handed to a controller. The Secret's data is a secret: it is
    /// applied to the cluster and never written to the state or a log.
    /// </summary>
    CloudControllerPackage CloudController(ClusterState state, CloudControllerContext context);
}

/// <summary>What the controller must agree with: the distribution, its pod CIDR, and the credential of this operation.</summary>
internal sealed record CloudControllerContext(DistributionKind Distribution, string PodCidr, ProviderCredential? Credential);

/// <summary>The objects to apply (the Secret first), named for -WhatIf and the state by <see cref="Name"/> and <see cref="Version"/>.</summary>
internal sealed record CloudControllerPackage(string Name, string Version, ManifestObject Secret, IReadOnlyList<ManifestObject> Objects);
