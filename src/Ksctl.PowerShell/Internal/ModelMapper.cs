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
        CertificatesExpireAt = Ksctl.Core.Distributions.Etcd.EtcdCertificateExpiry.Of(s),
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
