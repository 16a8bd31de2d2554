namespace Ksctl.Core.Model;

/// <summary>The status machine: which operations each status allows (REFERENCE.md).</summary>
public static class StatusRules
{
    public static bool Allows(ClusterStatus status, ClusterOperation operation) => operation switch
    {
        ClusterOperation.Get => true,
        ClusterOperation.Create => status is ClusterStatus.Fresh or ClusterStatus.CreationFailed,
        ClusterOperation.Delete => status is ClusterStatus.Fresh or ClusterStatus.CreationFailed or ClusterStatus.DeletionFailed
            or ClusterStatus.Running or ClusterStatus.ConfiguringFailed or ClusterStatus.Degraded,
        ClusterOperation.Resize or ClusterOperation.Switch or ClusterOperation.Upgrade => status is ClusterStatus.Running or ClusterStatus.ConfiguringFailed or ClusterStatus.Degraded,
        _ => false,
    };

    /// <summary>Statuses an operation holds only while it runs (the cluster's lock is held meanwhile).</summary>
    public static bool IsTransitional(ClusterStatus status) =>
        status is ClusterStatus.Creating or ClusterStatus.Deleting or ClusterStatus.Configuring;

    /// <summary>
    /// What a transitional status means once no process runs that operation any more (it was killed, the machine
    /// lost power, a runbook sandbox was recycled): the operation failed midway and may be resumed like any failure.
    /// </summary>
    public static ClusterStatus AfterInterruption(ClusterStatus status) => status switch
    {
        ClusterStatus.Creating => ClusterStatus.CreationFailed,
        ClusterStatus.Deleting => ClusterStatus.DeletionFailed,
        ClusterStatus.Configuring => ClusterStatus.ConfiguringFailed,
        _ => status,
    };
}
