using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage.Credentials;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Aws;

/// <summary>
/// Amazon Web Services: self-managed HA clusters on EC2 (AwsProvider.Machines.cs) and managed EKS clusters (the EKS
/// files add <see cref="IManagedClusterProvider"/> and implement <see cref="PrepareManaged"/>). What the provider
/// supports is what its parts implement: the descriptor's types are read from the interfaces this class has.
/// Split by responsibility: AwsProvider.Session.cs (sign-in, SDK clients, STS identity), AwsCredentials (the chain),
/// AwsEndpoints (one URL per service); IAM and EKS, which have no SDK package here, are signed by the SDK's public SigV4
/// signer (Eks/AwsSignedClient: SigV4SigningHandler), the one SigV4 path besides the SDK clients' own.
/// </summary>
internal sealed partial class AwsProvider : ICloudProvider, IPreflightProvider
{
    internal const string DefaultRegion = "us-east-1";

    /// <summary>AWS's commercial regions (docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html).</summary>
    internal static readonly string[] Regions =
    [
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1", "mx-central-1", "sa-east-1",
        "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
        "af-south-1", "me-south-1", "me-central-1", "il-central-1",
        "ap-south-1", "ap-south-2", "ap-east-1", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
        "ap-southeast-5", "ap-southeast-7", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    ];

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly AwsEndpoints _endpoints;

    public AwsProvider(KsctlServices services, AwsEndpoints endpoints)
    {
        _endpoints = endpoints;
        _logger = services.Loggers.CreateLogger<AwsProvider>();
        _time = services.Time;
        Services = services;
        var types = new List<ClusterType>();
        if (this is IManagedClusterProvider) types.Add(ClusterType.Managed);
        if (this is ISelfManagedProvider) types.Add(ClusterType.SelfManaged);
        Descriptor = new ProviderDescriptor
        {
            Provider = CloudProvider.Aws,
            SupportedTypes = types,
            DefaultRegion = DefaultRegion,
            Regions = Regions,
            NodeSizes = AwsInstanceTypes.Common,
            MachineSizes = AwsInstanceTypes.Common,
            DefaultNodeSize = AwsInstanceTypes.ManagedNodeDefault,
            DefaultNodeCount = 1,
            DefaultKubernetesVersion = AwsInstanceTypes.SelfManagedKubernetesVersion,
            ManagedDistributionName = "EKS",
        };
    }

    internal KsctlServices Services { get; }
    internal AwsEndpoints Endpoints => _endpoints;
    internal ILogger Logger => _logger;
    internal TimeProvider Time => _time;

    public ProviderDescriptor Descriptor { get; }

    /// <summary>The stored credential (Set-KsctlCredential -Provider Aws), asked for lazily.</summary>
    internal Func<CancellationToken, Task<StoredCredential?>>? StoredCredential { get; init; }

    /// <summary>
    /// The credential given for this operation (-Credential, or -ProfileName): first in the order. Set only on the
    /// per-operation copy the registry makes (ProviderRegistry.Get with a credential).
    /// </summary>
    internal ProviderCredential? ExplicitCredential { get; init; }

    public ClusterSpec Prepare(ClusterSpec spec)
    {
        ClusterSpec? prepared = null;
        if (spec.Id.Type == ClusterType.Managed) PrepareManaged(spec, ref prepared);
        else PrepareSelfManaged(spec, ref prepared);
        return prepared ?? throw new ProviderNotAvailableException("Aws",
            $"{spec.Id.Type} clusters on AWS are not available in this version of Ksctl; available: {string.Join(", ", Descriptor.SupportedTypes)}.");
    }

    /// <summary>Validation and defaults of a managed (EKS) spec; implemented with the EKS part. Leaves null when absent.</summary>
    partial void PrepareManaged(ClusterSpec spec, ref ClusterSpec? prepared);

    /// <summary>Validation and defaults of a self-managed (EC2) spec; implemented with the machines. Leaves null when absent.</summary>
    partial void PrepareSelfManaged(ClusterSpec spec, ref ClusterSpec? prepared);

    /// <summary>
    /// Proves the credential before anything exists: STS GetCallerIdentity (it needs no permission). A refused key, a
    /// bad signature or an expired session fails here with KsctlAuthenticationFailed, and nothing is created.
    /// </summary>
    public async Task PreflightAsync(ClusterSpec spec, CancellationToken cancellationToken)
    {
        using var clients = await ConnectAsync(spec.Id.Region, cancellationToken).ConfigureAwait(false);
        var caller = await CallerAsync(clients, cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("AWS: signed in as {Arn} (account {Account}) with the {SignIn}.", caller.Arn, caller.Account, clients.SignIn.ToString());
    }
}
