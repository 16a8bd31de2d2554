using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Upgrade;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// A Civo cluster's version is changed through Civo's API (civogo UpdateKubernetesCluster with kubernetes_version; Civo
/// then upgrades the masters and the nodes itself). The step reads the cluster first and sends the change only when it
/// is not already at the version, then waits until Civo reports the cluster ACTIVE at it, so a re-run resumes.
/// </summary>
internal sealed partial class CivoProvider : IManagedUpgradeProvider
{
    public const string UpgradeStep = "civo:upgrade";

    public void CheckUpgradeVersion(ClusterState state, string version)
    {
        if (!CivoVersion.IsMatch(version))
            throw new InvalidSpecException("KubernetesVersion", $"'{version}' is not a Civo Kubernetes version; use Civo's form major.minor.patch-k3sN (e.g. 1.31.2-k3s1).");
    }

    public IReadOnlyList<PlanStep> UpgradeSteps(ClusterState state, string version) =>
    [
        new PlanStep(UpgradeStep, (ctx, ct) => UpgradeClusterAsync(ctx, version, ct))
        {
            Description = $"upgrade Civo cluster '{state.Id.Name}' to {version} through Civo's API and wait until it is ACTIVE at it (up to {CivoTimings.Current.ClusterActive.TotalMinutes:0} minutes)",
            Resources = [$"civo kubernetes cluster {state.Id.Name}: kubernetes_version {version}"],
        },
    ];

    private async Task UpgradeClusterAsync(StepContext ctx, string version, CancellationToken ct)
    {
        var client = await ClientAsync(ct).ConfigureAwait(false);
        var id = CivoSteps.RecordedOrThrow(ctx, ClusterResource);
        var (name, region) = (ctx.State.Id.Name, ctx.State.Id.Region);
        var cluster = await client.GetClusterAsync(id, region, ct).ConfigureAwait(false)
            ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound, $"Civo cluster {id} ('{name}') no longer exists.", name);
        if (!Reached(cluster.KubernetesVersion, version))
        {
            _logger.LogInformation("Upgrading Civo cluster {Name} from {From} to {To}.", name, cluster.KubernetesVersion, version);
            await client.UpdateClusterVersionAsync(id, region, version, ct).ConfigureAwait(false);
        }
        var timeout = CivoTimings.Current.ClusterActive;
        var reported = await CivoPolling.UntilAsync(_time, timeout, async c =>
            {
                var now = await client.GetClusterAsync(id, region, c).ConfigureAwait(false)
                    ?? throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ObjectNotFound, $"Civo cluster {id} ('{name}') disappeared during its upgrade.", name);
                if (CivoSteps.IsFailed(now.Status))
                    throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.InvalidResult, $"Civo reports cluster '{name}' ({id}) as {now.Status} during its upgrade.", name);
                var done = string.Equals(now.Status, "ACTIVE", StringComparison.OrdinalIgnoreCase) && Reached(now.KubernetesVersion, version);
                return (done, now.KubernetesVersion, $"{now.Status} at {now.KubernetesVersion}");
            },
            status => $"Civo cluster '{name}' ({id}) was still {status} {timeout.TotalMinutes:0} minutes after its upgrade to {version} was asked. Re-run to keep waiting.",
            name, ct).ConfigureAwait(false);
        // What Civo reports is recorded only when it reads as a Civo version.
        ctx.Mutate(s => s.KubernetesVersion = reported is not null && CivoVersion.IsMatch(reported) ? reported : version);
    }

    private static bool Reached(string? current, string wanted) =>
        KubernetesVersion.TryParse(current, out var have) && KubernetesVersion.TryParse(wanted, out var want) && have.CompareTo(want) >= 0;
}
