using Ksctl.Core.Diagnostics;
using Ksctl.Core.Storage.Protection;

namespace Ksctl.Core.Storage.AzureBlob;

/// <summary>How an <see cref="AzureBlobStateStore"/> connects, protects secrets and reports warnings.</summary>
public sealed class AzureBlobStateStoreOptions
{
    /// <summary>
    /// Encrypts <c>ClusterState.Secrets</c>. When null: the key file <see cref="StateKeyPath"/>, else
    /// <c>KSCTL_STATE_KEY</c>, else <c>KSCTL_STATE_KEY_FILE</c> (see <see cref="StateKey.Resolve"/>).
    /// </summary>
    public ISecretProtector? SecretProtector { get; init; }

    /// <summary>A file holding the state key (base64 of 32 bytes).</summary>
    public string? StateKeyPath { get; init; }

    /// <summary>For <see cref="AzureBlobStateStore.FromUri"/>: the client id of a user-assigned managed identity.</summary>
    public string? ManagedIdentityClientId { get; init; }

    /// <summary>Warnings (a lock broken with -BreakStaleLock, a lease renewal that failed) as Core events.</summary>
    public IProgress<KsctlEvent>? Events { get; init; }

    /// <summary>Retries of a failed request before it is reported (few: a dead store must fail fast).</summary>
    public int MaxRetries { get; init; } = 2;

    /// <summary>How long one request may wait for the network.</summary>
    public TimeSpan NetworkTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Documents downloaded at once when listing.</summary>
    public int MaxParallelDownloads { get; init; } = 8;

    /// <summary>The lease on a cluster's lock blob (Azure allows 15-60 s).</summary>
    internal TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a held lease is renewed in the background.</summary>
    internal TimeSpan RenewInterval { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// A lease holder that recorded a renewal within this time is alive and its lease is never broken; after it (two
    /// missed renewals), -BreakStaleLock may take the lock over.
    /// </summary>
    internal TimeSpan StaleAfter { get; init; } = TimeSpan.FromSeconds(45);

    /// <summary>Tests: a policy in each request's pipeline (fault injection).</summary>
    internal Azure.Core.Pipeline.HttpPipelinePolicy? TestPolicy { get; init; }

    /// <summary>Tests: pretend to be another process.</summary>
    internal LockHolderIdentity? HolderOverride { get; init; }
}

/// <summary>Who takes a lock: this process unless a test says otherwise.</summary>
internal sealed record LockHolderIdentity(int Pid, string Host)
{
    public static LockHolderIdentity ThisProcess => new(Environment.ProcessId, Environment.MachineName);
}
