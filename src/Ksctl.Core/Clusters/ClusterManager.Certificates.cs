using Ksctl.Core.Certificates;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Clusters;

/// <summary>
/// Certificate renewal of self-managed clusters (Update-KsctlCertificate): the etcd member and client certificates,
/// rolling with no downtime, and for Kubeadm kubeadm certs renew on the control planes; the etcd CA too when it is
/// near its end (or when asked), rolling as well (<see cref="EtcdCaRotation"/>). Configuring while it runs,
/// ConfiguringFailed when it fails or is cancelled; running it again resumes.
/// </summary>
public sealed partial class ClusterManager
{
    /// <summary>The renewal plan for -WhatIf (validated, nothing touched).</summary>
    public Task<Plan> PlanRenewCertificatesAsync(ClusterId id, CancellationToken cancellationToken) =>
        PlanRenewCertificatesAsync(id, rotateAuthority: false, cancellationToken);

    /// <summary>The renewal plan for -WhatIf; <paramref name="rotateAuthority"/> renews the etcd CA even when it is not near its end.</summary>
    public async Task<Plan> PlanRenewCertificatesAsync(ClusterId id, bool rotateAuthority, CancellationToken cancellationToken)
    {
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        var status = await EnsureDay2Async(state, "renew the certificates of", lockHeld: false, cancellationToken).ConfigureAwait(false);
        await using var access = Day2Access(state, OperationOptions.Default);
        var rotate = RotatesAuthority(state, rotateAuthority, ResumesRenewal(state, status));
        return new Plan("certificates", id, CertificateRenewalSteps.Create(state, access, _services.Time, rotate));
    }

    public Task<ClusterState> RenewCertificatesAsync(ClusterId id, OperationOptions options, CancellationToken cancellationToken) =>
        RenewCertificatesAsync(id, rotateAuthority: false, options, cancellationToken);

    /// <summary>Renews the certificates (and the etcd CA when due or <paramref name="rotateAuthority"/>); returns the cluster with the new expiry dates.</summary>
    public async Task<ClusterState> RenewCertificatesAsync(ClusterId id, bool rotateAuthority, OperationOptions options, CancellationToken cancellationToken)
    {
        _providers.Get(id.Provider, options.Credential);
        await using var clusterLock = await Store.AcquireLockAsync(id, "certificates", options.BreakStaleLock, cancellationToken).ConfigureAwait(false);
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        var status = await EnsureDay2Async(state, "renew the certificates of", lockHeld: true, cancellationToken).ConfigureAwait(false);
        // Resumes a renewal that failed (its records are kept); anything else starts a new one.
        var resuming = ResumesRenewal(state, status);
        var rotate = RotatesAuthority(state, rotateAuthority, resuming);
        var session = new StateSession(state, Store);
        session.Mutate(s =>
        {
            if (!resuming) foreach (var key in s.Steps.Keys.Where(k => k.StartsWith("certificates/", StringComparison.Ordinal)).ToList()) s.Steps.Remove(key);
            // The decision is kept: a resumed renewal runs the same plan, whatever the clock says then.
            if (rotate) s.Resources[EtcdCaRotation.PendingResource] = "true";
            else s.Resources.Remove(EtcdCaRotation.PendingResource);
            s.Status = ClusterStatus.Configuring;
            s.LastErrors.Clear();
            MarkDay2Running(s, "certificates");
        });
        await session.CheckpointAsync().ConfigureAwait(false);
        await using var access = Day2Access(state, options);
        var plan = new Plan("certificates", id, CertificateRenewalSteps.Create(state, access, _services.Time, rotate));
        _logger.LogInformation("Renewing the certificates of {Cluster}{Ca}: {Steps} step(s).", id, rotate ? " and its etcd CA" : "", plan.Steps.Count);
        await RunDay2Async(plan, session, options, "KsctlCertificateRenewalFailed", cancellationToken).ConfigureAwait(false);
        return state;
    }

    /// <summary>A renewal that failed (its records are kept) is resumed; anything else starts a new one.</summary>
    private static bool ResumesRenewal(ClusterState state, ClusterStatus status) =>
        status == ClusterStatus.ConfiguringFailed && state.Steps.Keys.Any(k => k.StartsWith("certificates/", StringComparison.Ordinal))
        && !state.Steps.ContainsKey("certificates/" + CertificateRenewalSteps.RecordStep);

    /// <summary>Asked for, due (the CA ends within a leaf's lifetime), or the unfinished rotation being resumed.</summary>
    private bool RotatesAuthority(ClusterState state, bool asked, bool resuming) =>
        resuming ? state.Resources.ContainsKey(EtcdCaRotation.PendingResource) : asked || EtcdCaRotation.Due(state, _services.Time.GetUtcNow());
}
