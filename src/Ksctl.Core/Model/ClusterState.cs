namespace Ksctl.Core.Model;

/// <summary>
/// The persisted document for one cluster (schema-versioned JSON). Mutable: plan steps update it through
/// <see cref="Engine.StateSession.Mutate"/>, which serialises writers and checkpoints.
/// </summary>
public sealed class ClusterState
{
    /// <summary>The schema this build writes. A document with a higher version is refused, never overwritten.</summary>
    public const int CurrentSchemaVersion = 1;

    public int SchemaVersion { get; set; } = CurrentSchemaVersion;
    public required ClusterId Id { get; set; }
    public required ClusterSpec Spec { get; set; }
    public ClusterStatus Status { get; set; } = ClusterStatus.Fresh;
    /// <summary>The distribution or managed flavour shown to users ("Kind", "K3s", "Kubeadm", "AKS"...).</summary>
    public string? Distribution { get; set; }
    public string? KubernetesVersion { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public string? Endpoint { get; set; }
    public string? ContextName { get; set; }
    public List<NodeState> Nodes { get; set; } = new();
    /// <summary>Cloud resource ids and other non-secret facts, keyed by a stable name (e.g. "network", "vm:cp-0").</summary>
    public Dictionary<string, string> Resources { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Private keys, tokens, certificates, kubeconfig. Never printed; protected by the store.</summary>
    public Dictionary<string, string> Secrets { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Checkpoints: "operation/step" → record.</summary>
    public Dictionary<string, StepRecord> Steps { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Errors of the last failed operation, for Get-KsctlCluster.</summary>
    public List<string> LastErrors { get; set; } = new();

    /// <summary>
    /// The document's integrity tag in a store with a state key (an HMAC of the rest of the document, written and
    /// checked by the store; null in a live state). A document whose tag does not verify is refused.
    /// </summary>
    public string? Integrity { get; set; }

    public const string KubeconfigSecret = "kubeconfig";

    /// <summary>
    /// The version an unfinished Update-KsctlCluster is taking the cluster to (null when none is pending): a re-run
    /// must ask for the same one to resume from the node it stopped at.
    /// </summary>
    public string? UpgradeTargetVersion { get; set; }

    /// <summary>Add-ons Ksctl applied (Add-KsctlAddon), in the order they were added. Absent in older documents.</summary>
    public List<AddonRecord> Addons { get; set; } = new();

    /// <summary>The reconciler's findings (null until it has looked at the cluster).</summary>
    public ReconcileStatus? Reconcile { get; set; }
}
