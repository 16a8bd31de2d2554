namespace Ksctl.PowerShell.Models;

/// <summary>One step of a plan as Get-KsctlPlan returns it, in execution order (what -WhatIf prints, as data).</summary>
public sealed class KsctlPlanStep
{
    /// <summary>"name (Provider/Type, region)" of the cluster.</summary>
    public string Cluster { get; init; } = "";
    /// <summary>New, Remove or Resize.</summary>
    public string Operation { get; init; } = "";
    public string Name { get; init; } = "";
    /// <summary>Steps that must be done first; steps whose dependencies are done run in parallel.</summary>
    public string[] DependsOn { get; init; } = [];
    public string Description { get; init; } = "";
    /// <summary>The resources the step creates or deletes (exact ids where the provider knows them before it runs).</summary>
    public string[] Resources { get; init; } = [];
    /// <summary>True when an earlier, failed run finished this step: the next run resumes after it.</summary>
    public bool AlreadyDone { get; init; }

    public override string ToString() => Name;
}
