using Ksctl.Core.Engine;
using Ksctl.Core.Model;

namespace Ksctl.Server.Api;

// The wire shapes of /api/v1. Built from Core's models field by field: a secret (ClusterState.Secrets, keys,
// tokens) has no member here to land in.

public sealed record ClusterRef(string Name, string Provider, string Type, string Region)
{
    public static ClusterRef Of(ClusterId id) => new(id.Name, id.Provider.ToString(), id.Type.ToString(), id.Region);
}

public sealed record NodeSummary(string Name, string Role, int Index, string? Size, string? PublicIP, string? PrivateIP);

public sealed record ClusterSummary
{
    public required string Name { get; init; }
    public required string Provider { get; init; }
    public required string Type { get; init; }
    public required string Region { get; init; }
    public required string Status { get; init; }
    public string? Distribution { get; init; }
    public string? KubernetesVersion { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public string? Endpoint { get; init; }
    public int? DesiredWorkers { get; init; }
    public required IReadOnlyList<NodeSummary> Nodes { get; init; }
    public required IReadOnlyList<string> LastErrors { get; init; }
    /// <summary>Whether the reconciler looks after this cluster.</summary>
    public bool Reconcile { get; init; }
    /// <summary>Healthy, Degraded, Waiting, GaveUp, Idle, or null before the reconciler's first look.</summary>
    public string? Health { get; init; }
    public IReadOnlyList<string> HealthReasons { get; init; } = [];
    public IReadOnlyList<string> Drift { get; init; } = [];
    public IReadOnlyList<string> ReconcileLog { get; init; } = [];
    /// <summary>Whether the reconciler replaces a worker whose machine the cloud lost (the spec's 'repair', default off).</summary>
    public bool Repair { get; init; }
    /// <summary>Workers a repair is replacing (kept until it succeeds).</summary>
    public IReadOnlyList<string> Replacing { get; init; } = [];

    public static ClusterSummary Of(ClusterState s) => new()
    {
        Name = s.Id.Name,
        Provider = s.Id.Provider.ToString(),
        Type = s.Id.Type.ToString(),
        Region = s.Id.Region,
        Status = s.Status.ToString(),
        Distribution = s.Distribution,
        KubernetesVersion = s.KubernetesVersion,
        CreatedAt = s.CreatedAt,
        UpdatedAt = s.UpdatedAt,
        Endpoint = s.Endpoint,
        DesiredWorkers = s.Id.Type == ClusterType.SelfManaged ? s.Spec.WorkerCount : s.Spec.NodeCount,
        Nodes = s.Nodes.Select(n => new NodeSummary(n.Name, n.Role.ToString(), n.Index, n.Size, n.PublicIP, n.PrivateIP)).ToList(),
        LastErrors = s.LastErrors.ToList(),
        Reconcile = s.Spec.Reconcile,
        Health = s.Reconcile?.State,
        HealthReasons = s.Reconcile?.HealthReasons.ToList() ?? [],
        Drift = s.Reconcile?.Drift.ToList() ?? [],
        ReconcileLog = s.Reconcile?.Log.ToList() ?? [],
        Repair = s.Spec.Repair,
        Replacing = s.Reconcile?.Replacing.ToList() ?? [],
    };
}

public sealed record PlanStepDocument(string Name, string Description, IReadOnlyList<string> DependsOn, IReadOnlyList<string> Resources);

/// <summary>A plan as data (?dryRun=true): what -WhatIf prints, step by step, in execution order.</summary>
public sealed record PlanDocument(string Operation, ClusterRef Cluster, IReadOnlyList<PlanStepDocument> Steps, string Text)
{
    public static PlanDocument Of(Plan plan) => new(plan.Operation, ClusterRef.Of(plan.Cluster),
        plan.TopologicalOrder().Select(s => new PlanStepDocument(s.Name, s.Description, s.DependsOn.ToList(), s.Resources.ToList())).ToList(),
        plan.Render());
}

public sealed record ResizeRequest(int WorkerCount);

public sealed record ReconcileRequest(bool Enabled);

public sealed record ProviderInfo
{
    public required string Provider { get; init; }
    public required IReadOnlyList<string> Types { get; init; }
    public required string DefaultRegion { get; init; }
    public required IReadOnlyList<string> Regions { get; init; }
    public bool RegionIsLabel { get; init; }
    public required IReadOnlyList<string> NodeSizes { get; init; }
    public string? DefaultNodeSize { get; init; }
    public required IReadOnlyList<string> MachineSizes { get; init; }
    public int DefaultNodeCount { get; init; }
    public required IReadOnlyList<string> KubernetesVersions { get; init; }
    public required IReadOnlyList<string> Distributions { get; init; }
}

public sealed record WhoAmI(string Name, string Role);

public sealed record HealthDocument(string Status, string? Detail = null);
