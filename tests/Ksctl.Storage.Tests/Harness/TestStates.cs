using Azure.Storage.Blobs;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage.AzureBlob;
using Ksctl.Core.Storage.Protection;

namespace Ksctl.Storage.Tests.Harness;

internal static class TestStates
{
    public const string Kubeconfig = "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: PLAINTEXT-KUBE-TOKEN-7f3a\n";
    public const string SshKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nPLAINTEXT-SSH-KEY-b64c\n-----END OPENSSH PRIVATE KEY-----\n";
    public const string K3sToken = "PLAINTEXT-K3S-TOKEN-91ee";

    public static ClusterId Id(string name = "demo", string region = "eastus", CloudProvider provider = CloudProvider.Azure, ClusterType type = ClusterType.SelfManaged) =>
        new(provider, type, name, region);

    public static ClusterState State(ClusterId? id = null, bool secrets = true)
    {
        id ??= Id();
        var created = new DateTimeOffset(2026, 11, 24, 6, 0, 0, TimeSpan.Zero);
        var state = new ClusterState
        {
            Id = id,
            Spec = new ClusterSpec { Id = id, Distribution = DistributionKind.K3s, ControlPlaneCount = 3, WorkerCount = 2, EtcdCount = 3, Applications = ["cilium"] },
            Status = ClusterStatus.Creating,
            Distribution = "K3s",
            KubernetesVersion = "1.31.2",
            CreatedAt = created,
            UpdatedAt = created.AddMinutes(3),
            Endpoint = "https://10.251.0.10:6443",
            ContextName = id.DefaultContextName,
            Nodes = { new NodeState { Name = "cp-0", Role = NodeRole.ControlPlane, PublicIP = "10.251.0.11", HostKey = "SHA256:abc" } },
            Resources = { ["network"] = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/demo-vnet" },
            Steps = { ["create/network"] = new StepRecord { Outcome = StepOutcome.Done, StartedAt = created, FinishedAt = created.AddSeconds(4), Attempts = 1 } },
        };
        if (secrets)
        {
            state.Secrets[ClusterState.KubeconfigSecret] = Kubeconfig;
            state.Secrets["ssh-private-key"] = SshKey;
            state.Secrets["k3s-token"] = K3sToken;
        }
        return state;
    }

    public static string NewContainer() => "t" + Guid.NewGuid().ToString("N")[..20];

    public static AzureBlobStateStore Store(AzuriteInstance azurite, string container, ISecretProtector? key,
        LockHolderIdentity? holder = null, IProgress<KsctlEvent>? events = null, TimeSpan? renewInterval = null) =>
        (AzureBlobStateStore)AzureBlobStateStore.FromConnectionString(azurite.ConnectionString, container, new AzureBlobStateStoreOptions
        {
            SecretProtector = key,
            Events = events,
            HolderOverride = holder,
            RenewInterval = renewInterval ?? TimeSpan.FromSeconds(20),
            NetworkTimeout = TimeSpan.FromSeconds(3),
            MaxRetries = 1,
        });

    /// <summary>An SDK client of its own, as another process (or an operator with Storage Explorer) would have.</summary>
    public static BlobContainerClient RawContainer(AzuriteInstance azurite, string container) => new(azurite.ConnectionString, container);
}

/// <summary>Collects events synchronously (Progress&lt;T&gt; would post them later).</summary>
internal sealed class EventLog : IProgress<KsctlEvent>
{
    private readonly List<KsctlEvent> _events = new();
    public void Report(KsctlEvent value) { lock (_events) _events.Add(value); }
    public IReadOnlyList<KsctlEvent> Events { get { lock (_events) return _events.ToList(); } }
}
