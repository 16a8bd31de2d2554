using Ksctl.Core.Certificates;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Clusters;

/// <summary>
/// Certificate renewal of self-managed clusters (Update-KsctlCertificate): the etcd member and client certificates,
/// rolling with no downtime, and for Kubeadm kubeadm certs renew on the control planes. Configuring while it runs,
/// ConfiguringFailed when it fails or is cancelled; running it again resumes.
/// </summary>
public sealed partial class ClusterManager
{
    /// <summary>The renewal plan for -WhatIf (validated, nothing touched).</summary>
    public async Task<Plan> PlanRenewCertificatesAsync(ClusterId id, CancellationToken cancellationToken)
    {
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        await EnsureDay2Async(state, "renew the certificates of", lockHeld: false, cancellationToken).ConfigureAwait(false);
        await using var access = Day2Access(state, OperationOptions.Default);
        return new Plan("certificates", id, CertificateRenewalSteps.Create(state, access, _services.Time));
    }

    /// <summary>Renews the certificates; returns the cluster with the new expiry dates.</summary>
    public async Task<ClusterState> RenewCertificatesAsync(ClusterId id, OperationOptions options, CancellationToken cancellationToken)
    {
        _providers.Get(id.Provider, options.Credential);
        await using var clusterLock = await Store.AcquireLockAsync(id, "certificates", options.BreakStaleLock, cancellationToken).ConfigureAwait(false);
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        var status = await EnsureDay2Async(state, "renew the certificates of", lockHeld: true, cancellationToken).ConfigureAwait(false);
        // Resumes a renewal that failed (its records are kept); anything else starts a new one.
        var resuming = status == ClusterStatus.ConfiguringFailed && state.Steps.Keys.Any(k => k.StartsWith("certificates/", StringComparison.Ordinal))
            && !state.Steps.ContainsKey("certificates/" + CertificateRenewalSteps.RecordStep);
        var session = new StateSession(state, Store);
        session.Mutate(s =>
        {
            if (!resuming) foreach (var key in s.Steps.Keys.Where(k => k.StartsWith("certificates/", StringComparison.Ordinal)).ToList()) s.Steps.Remove(key);
            s.Status = ClusterStatus.Configuring;
            s.LastErrors.Clear();
            MarkDay2Running(s, "certificates");
        });
        await session.CheckpointAsync().ConfigureAwait(false);
        await using var access = Day2Access(state, options);
        var plan = new Plan("certificates", id, CertificateRenewalSteps.Create(state, access, _services.Time));
        _logger.LogInformation("Renewing the certificates of {Cluster}: {Steps} step(s).", id, plan.Steps.Count);
        await RunDay2Async(plan, session, options, "KsctlCertificateRenewalFailed", cancellationToken).ConfigureAwait(false);
        return state;
    }
}
