using Ksctl.Core.Configuration;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Internal;

/// <summary>Core records → PowerShell-facing objects (strings for enums; never a secret).</summary>
internal static class ModelMapper
{
    public static KsctlCluster ToCluster(ClusterState s) => new()
    {
        Name = s.Id.Name,
        Provider = s.Id.Provider.ToString(),
        Type = s.Id.Type.ToString(),
        Region = s.Id.Region,
        Distribution = s.Distribution,
        KubernetesVersion = s.KubernetesVersion ?? s.Spec.KubernetesVersion,
        Status = s.Status.ToString(),
        Nodes = s.Nodes.OrderBy(n => n.Role).ThenBy(n => n.Index).Select(ToNode).ToArray(),
        Endpoint = s.Endpoint,
        ContextName = s.ContextName,
        CreatedAt = s.CreatedAt,
        UpdatedAt = s.UpdatedAt,
        LastErrors = s.LastErrors.ToArray(),
        Spec = ToSpec(s.Spec),
        CertificatesExpireAt = Ksctl.Core.Distributions.Etcd.EtcdCertificateExpiry.Of(s),
        CertificateExpiry = Ksctl.Core.Distributions.Etcd.EtcdCertificateExpiry.Kinds(s).ToDictionary(k => k.Key, k => k.Value, StringComparer.Ordinal),
    };

    public static KsctlClusterSpec ToSpec(ClusterSpec s) => new()
    {
        Name = s.Id.Name,
        Provider = s.Id.Provider.ToString(),
        Type = s.Id.Type.ToString(),
        Region = s.Id.Region,
        KubernetesVersion = s.KubernetesVersion,
        NodeCount = s.NodeCount,
        NodeSize = s.NodeSize,
        Distribution = s.Distribution?.ToString(),
        ControlPlaneCount = s.ControlPlaneCount,
        WorkerCount = s.WorkerCount,
        EtcdCount = s.EtcdCount,
        ControlPlaneSize = s.ControlPlaneSize,
        WorkerSize = s.WorkerSize,
        EtcdSize = s.EtcdSize,
        LoadBalancerSize = s.LoadBalancerSize,
        Cni = s.Cni,
        Applications = s.Applications.ToArray(),
        Machines = s.Machines.Select(m => new KsctlMachineSpec
        {
            Address = m.Address, Port = m.Port, User = m.User, KeyPath = m.KeyPath, HostKey = m.HostKey, Role = m.Role.ToString(), PrivateAddress = m.PrivateAddress,
        }).ToArray(),
        TrustOnFirstUse = s.TrustOnFirstUse,
        ArtifactSource = s.ArtifactSource,
        AllowInsecureArtifactSource = s.AllowInsecureArtifactSource,
    };

    /// <summary>The spec object back as Core's (for ToYaml); values are re-validated when the file is used.</summary>
    public static ClusterSpec ToCoreSpec(KsctlClusterSpec s) => new()
    {
        Id = new ClusterId(Enum.Parse<CloudProvider>(s.Provider, true), Enum.Parse<ClusterType>(s.Type, true), s.Name, s.Region),
        KubernetesVersion = s.KubernetesVersion,
        NodeCount = s.NodeCount,
        NodeSize = s.NodeSize,
        Distribution = s.Distribution is null ? null : Enum.Parse<DistributionKind>(s.Distribution, true),
        ControlPlaneCount = s.ControlPlaneCount,
        WorkerCount = s.WorkerCount,
        EtcdCount = s.EtcdCount,
        ControlPlaneSize = s.ControlPlaneSize,
        WorkerSize = s.WorkerSize,
        EtcdSize = s.EtcdSize,
        LoadBalancerSize = s.LoadBalancerSize,
        Cni = s.Cni,
        Applications = s.Applications.ToArray(),
        Machines = s.Machines.Select(m => new MachineSpec
        {
            Address = m.Address, Port = m.Port, User = m.User, KeyPath = m.KeyPath, HostKey = m.HostKey, Role = Enum.Parse<NodeRole>(m.Role, true), PrivateAddress = m.PrivateAddress,
        }).ToArray(),
        TrustOnFirstUse = s.TrustOnFirstUse,
        ArtifactSource = s.ArtifactSource,
        AllowInsecureArtifactSource = s.AllowInsecureArtifactSource,
    };

    public static KsctlNode ToNode(NodeState n) => new()
    {
        Name = n.Name,
        Role = n.Role.ToString(),
        Size = n.Size,
        PublicIP = n.PublicIP,
        PrivateIP = n.PrivateIP,
    };

    public static KsctlContext ToContext(KubeconfigWriteResult r) => new()
    {
        ContextName = r.ContextName,
        Path = r.Path,
        ClusterName = r.ClusterName,
        Server = r.Server,
    };

    public static KsctlConfiguration ToConfiguration(KsctlSettings s) => new()
    {
        Home = s.Home,
        StateStore = s.StateStore.ToString(),
        StatePath = s.StatePath,
        StorageAccountUri = s.StorageAccountUri is { } u ? Commands.SetKsctlConfigurationCommand.WithoutQuery(u) : null,
        Container = s.Container,
        Authentication = s.StoreAuthentication,
        StateKeyPath = s.StateKeyPath,
        EnvironmentOverrides = s.EnvironmentOverrides.ToArray(),
        LogPath = s.LogPath,
        ConfigPath = s.ConfigPath,
    };

    /// <summary>Never the secret.</summary>
    public static KsctlCredentialInfo ToCredentialInfo(Core.Storage.Credentials.StoredCredential c, string location) => new()
    {
        Provider = c.Provider.ToString(),
        UserName = c.UserName,
        TenantId = c.TenantId,
        SubscriptionId = c.SubscriptionId,
        Region = c.Region,
        UpdatedAt = c.UpdatedAt,
        Location = location,
    };
}
