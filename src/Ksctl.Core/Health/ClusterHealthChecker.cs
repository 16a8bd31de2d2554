using System.Globalization;
using Ksctl.Core.Distributions.Etcd;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Health;

/// <summary>
/// Runs every live check of one cluster, all at once, and returns them in a stable order: API, nodes, etcd members,
/// load-balancer backends, certificates, inventory. Read only: nothing on the machines, the cloud or the state changes.
/// A check that cannot be made (a machine unreachable, a cloud call refused) is a failed check with its reason, never
/// an exception: the caller always gets the whole picture.
/// </summary>
internal sealed class ClusterHealthChecker(ICloudProvider provider, Func<RemoteShellOptions, IRemoteShellFactory> shells, TimeProvider time)
{
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(20);
    public TimeSpan ConnectDeadline { get; init; } = TimeSpan.FromSeconds(15);

    public async Task<IReadOnlyList<HealthCheckResult>> CheckAsync(ClusterState state, CancellationToken ct)
    {
        var api = KubernetesHealth.CheckAsync(state, Timeout, ct);
        var machines = state.Id.Type == ClusterType.SelfManaged && provider is ISelfManagedProvider selfManaged
            ? MachineChecksAsync(state, selfManaged, ct)
            : Task.FromResult<IReadOnlyList<HealthCheckResult>>([]);
        var inventory = InventoryAsync(state, ct);
        var results = new List<HealthCheckResult>();
        results.AddRange(await api.ConfigureAwait(false));
        results.AddRange(await machines.ConfigureAwait(false));
        results.AddRange(Certificates(state));
        results.AddRange(await inventory.ConfigureAwait(false));
        return results;
    }

    private async Task<IReadOnlyList<HealthCheckResult>> MachineChecksAsync(ClusterState state, ISelfManagedProvider machines, CancellationToken ct)
    {
        // Health never learns a host key: only pinned machines are asked.
        var factory = shells(new RemoteShellOptions { ConnectDeadline = ConnectDeadline, AllowTrustOnFirstUse = false, ConnectAttemptTimeout = ConnectDeadline });
        Func<CancellationToken, Task<IRemoteShell>> Connect(NodeState node) => c => factory.ConnectAsync(machines.Connection(state, node), c);
        var etcd = state.Nodes.Where(n => n.Role == NodeRole.Datastore).OrderBy(n => n.Index)
            .Select(n => MachineHealth.EtcdMemberAsync(Connect(n), n.Key ?? n.Name, ct)).ToList();
        var lb = state.Nodes.FirstOrDefault(n => n.Role == NodeRole.LoadBalancer);
        var backends = state.Nodes.Where(n => n.Role == NodeRole.ControlPlane).OrderBy(n => n.Index).Select(n => n.Key ?? n.Name).ToList();
        var balancer = lb is null
            ? Task.FromResult<IReadOnlyList<HealthCheckResult>>([])
            : MachineHealth.LoadBalancerAsync(Connect(lb), backends, ct);
        var results = new List<HealthCheckResult>(await Task.WhenAll(etcd).ConfigureAwait(false));
        results.AddRange(await balancer.ConfigureAwait(false));
        return results;
    }

    private IEnumerable<HealthCheckResult> Certificates(ClusterState state)
    {
        if (EtcdCertificateExpiry.Of(state) is not { } at) yield break;
        var now = time.GetUtcNow();
        var when = at.ToString("u", CultureInfo.InvariantCulture);
        if (at <= now) yield return new(HealthChecks.CertificateExpiry, "etcd", false, $"the etcd certificates expired at {when}");
        else if (EtcdCertificateExpiry.IsDueSoon(state, now))
            yield return new(HealthChecks.CertificateExpiry, "etcd", false, $"the etcd certificates expire at {when}, within {EtcdCertificateExpiry.WarningWindow.TotalDays:0} days");
        else yield return new(HealthChecks.CertificateExpiry, "etcd", true, $"the etcd certificates expire at {when}");
    }

    private async Task<IReadOnlyList<HealthCheckResult>> InventoryAsync(ClusterState state, CancellationToken ct)
    {
        if (provider is not IInventoryProvider inventory || state.Id.Type != ClusterType.SelfManaged) return [];
        IReadOnlyList<LiveMachine> live;
        try
        {
            live = await inventory.LiveMachinesAsync(state, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            return [new(HealthChecks.Inventory, "machines", false, $"the {state.Id.Provider} inventory could not be read: {KubernetesHealth.Innermost(ex)}")];
        }
        return InventoryDrift.Compare(state, live);
    }
}
