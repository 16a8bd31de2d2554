using Ksctl.Core.Engine;
using Ksctl.Core.Model;

namespace Ksctl.Core.Clusters;

/// <summary>
/// One step of a plan as data (Get-KsctlPlan): what -WhatIf prints, for CI to inspect. <see cref="AlreadyDone"/> says
/// the step has a Done checkpoint that the next run of this operation will resume from (so it will not run again).
/// </summary>
public sealed record PlannedStep(string Operation, string Name, IReadOnlyList<string> DependsOn, string Description, IReadOnlyList<string> Resources, bool AlreadyDone)
{
    /// <summary>
    /// The steps of <paramref name="plan"/> in execution order. <paramref name="state"/> is the cluster as stored (null:
    /// a new cluster). A create always resumes its checkpoints; a delete or resize resumes them only after it failed (or
    /// was interrupted), otherwise it starts from scratch — the same reading <see cref="ClusterManager"/> makes.
    /// </summary>
    public static IReadOnlyList<PlannedStep> From(Plan plan, ClusterState? state)
    {
        var status = state is null ? ClusterStatus.Fresh : StatusRules.AfterInterruption(state.Status);
        var resumes = plan.Operation switch
        {
            "create" => state is not null,
            "delete" => status == ClusterStatus.DeletionFailed,
            "resize" => status == ClusterStatus.ConfiguringFailed,
            _ => false,
        };
        return plan.TopologicalOrder().Select(s => new PlannedStep(plan.Operation, s.Name, s.DependsOn.ToArray(), s.Description, s.Resources.ToArray(),
            resumes && state!.Steps.TryGetValue(plan.RecordKey(s), out var r) && r.Outcome == StepOutcome.Done)).ToList();
    }
}
