namespace Ksctl.Core.Model;

/// <summary>The status machine: which operations each status allows (REFERENCE.md).</summary>
public static class StatusRules
{
    public static bool Allows(ClusterStatus status, ClusterOperation operation) => operation switch
    {
        ClusterOperation.Get => true,
        ClusterOperation.Create => status is ClusterStatus.Fresh or ClusterStatus.CreationFailed,
        ClusterOperation.Delete => status is ClusterStatus.Fresh or ClusterStatus.CreationFailed or ClusterStatus.DeletionFailed
            or ClusterStatus.Running or ClusterStatus.ConfiguringFailed,
        ClusterOperation.Resize or ClusterOperation.Switch => status is ClusterStatus.Running or ClusterStatus.ConfiguringFailed,
        _ => false,
    };
}
