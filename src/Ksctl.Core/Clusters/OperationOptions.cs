namespace Ksctl.Core.Clusters;

/// <summary>How to run one mutating operation.</summary>
public sealed record OperationOptions
{
    public static readonly OperationOptions Default = new();

    /// <summary>Steps run at once (bounded fan-out).</summary>
    public int MaxParallelism { get; init; } = 8;
    /// <summary>
    /// Take over a lock whose holder is gone (-BreakStaleLock): a file lock whose process no longer runs on this host
    /// (or, from another host, one not refreshed for a while), a lease nobody renews. A live holder's lock is never broken.
    /// </summary>
    public bool BreakStaleLock { get; init; }
    /// <summary>How long to keep trying to reach a machine over SSH (new cloud machines need time to boot).</summary>
    public TimeSpan ConnectDeadline { get; init; } = TimeSpan.FromMinutes(3);
    /// <summary>An explicit cloud credential (-Credential): first in the provider's credential order; never persisted.</summary>
    public Providers.ProviderCredential? Credential { get; init; }
    /// <summary>Delete: keep the context, cluster and user entries Switch-KsctlContext merged into kubeconfigs (-KeepContext).</summary>
    public bool KeepKubeconfigEntries { get; init; }
}
