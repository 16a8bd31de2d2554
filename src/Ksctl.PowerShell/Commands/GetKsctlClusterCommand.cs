using System.Management.Automation;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;
using Ksctl.PowerShell.Completers;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Lists clusters from the state store, filtered by name (wildcards), provider, type and region. A literal name that
/// matches nothing is a non-terminating KsctlClusterNotFound error; a wildcard that matches nothing is not an error.
/// </summary>
[Cmdlet(VerbsCommon.Get, "KsctlCluster")]
[OutputType(typeof(KsctlCluster))]
public sealed class GetKsctlClusterCommand : ClusterFilterCmdlet
{
    /// <summary>Check each Running cluster live (as Test-KsctlCluster does) and show Degraded, with the failed checks in LastErrors.</summary>
    [Parameter]
    public SwitchParameter Refresh { get; set; }

    protected override void ProcessRecord()
    {
        var (query, literals) = BuildQuery();
        var manager = GetManager();
        List<KsctlCluster> clusters;
        try
        {
            var listing = Run(ct => manager.ListSummariesAsync(query, ct));
            var states = listing.Clusters;
            if (Refresh)
                states = states.Select(s => s.Status == Ksctl.Core.Model.ClusterStatus.Running ? Refreshed(manager, s) : s).ToList();
            clusters = states.Select(ModelMapper.ToCluster).ToList();
            // One error per unreadable document (corrupt, or written by a newer Ksctl); the others are still listed.
            // A document Ksctl refuses to trust (tampered, invalid) is skipped with a warning naming the cluster.
            foreach (var error in listing.Errors)
            {
                if (error is StateInvalidException invalid) WriteWarning($"Skipped cluster {invalid.Cluster}: {invalid.Message}");
                else WriteFailure(error, error.Target);
            }
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            // The store itself cannot be read (an unreadable folder, an unreachable remote store).
            WriteFailure(ex, manager.Store.Description);
            return;
        }

        clusters.Sort((a, b) =>
        {
            var c = string.CompareOrdinal(a.Name, b.Name);
            if (c != 0) return c;
            c = string.CompareOrdinal(a.Provider, b.Provider);
            return c != 0 ? c : string.CompareOrdinal(a.Region, b.Region);
        });
        WriteObject(clusters, enumerateCollection: true);
        foreach (var c in clusters.Where(c => c.CertificatesExpireAt is { } at && at - DateTimeOffset.UtcNow <= Ksctl.Core.Distributions.Etcd.EtcdCertificateExpiry.WarningWindow))
            WriteWarning($"The etcd certificates of cluster {c.Name} expire at {c.CertificatesExpireAt:u}; renew them with Update-KsctlCertificate -Name {c.Name}.");

        if (literals.Count == 0) return;
        WriteMissing(literals, clusters);
    }

    /// <summary>The cluster as its live checks see it; one that cannot be read again is listed as stored, with an error.</summary>
    private Ksctl.Core.Model.ClusterState Refreshed(Ksctl.Core.Clusters.ClusterManager manager, Ksctl.Core.Model.ClusterState summary)
    {
        try
        {
            return Run(ct => manager.RefreshAsync(summary.Id, ct));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, summary.Id.Name);
            return summary;
        }
    }

    private void WriteMissing(IReadOnlyList<string> literals, List<KsctlCluster> clusters)
    {
        var seen = clusters.Select(c => c.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var missing in literals.Where(n => !seen.Contains(n)))
        {
            var description = Describe(missing);
            WriteError(ErrorMapper.ToErrorRecord(new ClusterNotFoundException(description), missing));
        }
    }
}
