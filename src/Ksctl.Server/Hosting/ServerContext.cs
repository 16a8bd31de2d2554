using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Server.Api;

namespace Ksctl.Server.Hosting;

/// <summary>
/// The server's view of Ksctl: the settings the cmdlets use ($KSCTL_HOME/config.json and the KSCTL_STATE_*
/// variables, so the server runs on the same file or AzureBlob store as they do) and one ClusterManager for reads.
/// Operations build their own managers (OperationRegistry) so that each has its own event stream.
/// </summary>
public sealed class ServerContext : IDisposable
{
    public ServerContext(KsctlSettings settings)
    {
        Settings = settings;
        Manager = new ClusterManager(settings);
    }

    public KsctlSettings Settings { get; }
    public ClusterManager Manager { get; }

    public async Task<ClusterId> ResolveAsync(string name, string? provider, string? type, string? region, CancellationToken ct)
    {
        var state = await Manager.ResolveAsync(name,
            provider is null ? null : ClusterEndpoints.ParseEnum<CloudProvider>(provider, "provider"),
            type is null ? null : ClusterEndpoints.ParseEnum<ClusterType>(type, "type"),
            region, ct);
        return state.Id;
    }

    /// <summary>
    /// Refuses a change while anyone (a cmdlet, another replica, this server) holds the cluster's lock, before the
    /// 202: the operation itself takes the lock again and fails with the same error if it lost a race.
    /// </summary>
    public async Task EnsureUnlockedAsync(ClusterId id, CancellationToken ct)
    {
        if (await Manager.Store.LockHolderAsync(id, ct) is { } holder) throw new ClusterLockedException(id.ToString(), holder);
    }

    public void Dispose() => Manager.Dispose();
}
