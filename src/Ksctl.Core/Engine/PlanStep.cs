namespace Ksctl.Core.Engine;

/// <summary>
/// One named, idempotent unit of work in a plan (e.g. "network", "vm:cp-0", "k3s:cp-0").
/// Steps must be safe to run again after a crash: check first, or clean up first.
/// </summary>
public sealed class PlanStep
{
    public PlanStep(string name, Func<StepContext, CancellationToken, Task> run)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A step needs a name.", nameof(name));
        Name = name;
        Run = run ?? throw new ArgumentNullException(nameof(run));
    }

    public string Name { get; }
    public Func<StepContext, CancellationToken, Task> Run { get; }
    public IReadOnlyList<string> DependsOn { get; init; } = Array.Empty<string>();
    /// <summary>What the step does, in words, for -WhatIf and progress.</summary>
    public string Description { get; init; } = "";
    /// <summary>The resources the step creates or removes (names), for -WhatIf.</summary>
    public IReadOnlyList<string> Resources { get; init; } = Array.Empty<string>();
    /// <summary>
    /// Extra "already done?" check beyond the checkpoint record (e.g. the resource still exists). Called only
    /// when the state has no Done record for the step; returning true records the step as done without running it.
    /// </summary>
    public Func<StepContext, CancellationToken, Task<bool>>? IsAlreadyDone { get; init; }
}
