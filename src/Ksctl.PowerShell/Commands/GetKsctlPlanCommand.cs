using System.Management.Automation;
using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.PowerShell.Completers;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// The plan New-, Remove- or Resize-KsctlCluster would run, as step objects (Name, DependsOn, Description, Resources,
/// AlreadyDone) for scripts and CI to inspect; the same validation as the cmdlet itself, and nothing is touched.
/// -Operation New takes New-KsctlCluster's parameters; Remove and Resize take the cluster by name or from the pipeline
/// (Resize with -WorkerCount, or -NodeCount for a managed cluster's node pool).
/// </summary>
[Cmdlet(VerbsCommon.Get, "KsctlPlan", DefaultParameterSetName = ParametersSet)]
[OutputType(typeof(KsctlPlanStep))]
public sealed class GetKsctlPlanCommand : ClusterSpecCmdlet
{
    private const string ParametersSet = "Parameters";
    private const string SpecSet = "Spec";
    private const string InputObjectSet = "InputObject";
    private const string New = "New", Remove = "Remove", Resize = "Resize";

    /// <summary>The operation whose plan is shown.</summary>
    [Parameter]
    [ValidateSet(New, Remove, Resize)]
    public string Operation { get; set; } = New;

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ParametersSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(Position = 0, ParameterSetName = SpecSet)]
    [ArgumentCompleter(typeof(ClusterNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter(ParameterSetName = ParametersSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = SpecSet)]
    [ValidateProvider]
    [ArgumentCompleter(typeof(ProviderCompleter))]
    public string? Provider { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = SpecSet)]
    [ValidateNotNullOrEmpty]
    public string? SpecPath { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    [ValidateNotNull]
    public KsctlCluster? InputObject { get; set; }

    /// <summary>Parameters that only describe a new cluster (everything but the identity and, for Resize, its counts).</summary>
    private static readonly string[] IdentityParameters = ["Operation", "Name", "Provider", "Type", "Region", "InputObject"];
    private static readonly string[] ResizeParameters = ["WorkerCount", "NodeCount"];

    protected override void ProcessRecord()
    {
        var manager = GetManager();
        var target = InputObject?.Name ?? Name ?? SpecPath;
        try
        {
            var (plan, state) = Operation switch
            {
                New => PlanNew(manager),
                _ => PlanExisting(manager),
            };
            WriteObject(PlannedStep.From(plan, state).Select(s => new KsctlPlanStep
            {
                Cluster = plan.Cluster.ToString(),
                Operation = Operation,
                Name = s.Name,
                DependsOn = s.DependsOn.ToArray(),
                Description = s.Description,
                Resources = s.Resources.ToArray(),
                AlreadyDone = s.AlreadyDone,
            }), enumerateCollection: true);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, target);
        }
    }

    private (Plan, ClusterState?) PlanNew(ClusterManager manager)
    {
        if (InputObject is not null) throw new InvalidSpecException("InputObject", "-Operation New plans a new cluster from parameters or -SpecPath, not from an existing cluster.");
        var spec = BuildSpec(manager, SpecPath, Name, Provider);
        return Run(ct => manager.PlanCreateAsync(spec, ct));
    }

    private (Plan, ClusterState?) PlanExisting(ClusterManager manager)
    {
        if (SpecPath is not null) throw new InvalidSpecException("SpecPath", $"applies to -Operation New only; -Operation {Operation} plans for an existing cluster.");
        if (MyInvocation.BoundParameters.Keys.FirstOrDefault(k => !IdentityParameters.Contains(k, StringComparer.OrdinalIgnoreCase)
                && !(Operation == Resize && ResizeParameters.Contains(k, StringComparer.OrdinalIgnoreCase)) && !IsCommon(k)) is { } extra)
            throw new InvalidSpecException(extra, $"applies to -Operation New only; -Operation {Operation} takes the cluster (-Name, -Provider, -Type, -Region or -InputObject){(Operation == Resize ? " and -WorkerCount or -NodeCount" : "")}.");
        var (name, provider, type, region) = InputObject is { } c ? (c.Name, c.Provider, c.Type, c.Region) : (Name!, Provider, Type, Region);
        var state = Run(ct => manager.ResolveAsync(name, Names.ParseEnum<CloudProvider>(provider), Names.ParseEnum<ClusterType>(type),
            string.IsNullOrWhiteSpace(region) ? null : region, ct));
        if (Operation == Remove) return (Run(ct => manager.PlanDeleteAsync(state.Id, ct)), state);
        // As Resize-KsctlCluster: -WorkerCount for a self-managed cluster's workers, -NodeCount for a managed node pool.
        var hasWorkers = MyInvocation.BoundParameters.ContainsKey("WorkerCount");
        var hasNodes = MyInvocation.BoundParameters.ContainsKey("NodeCount");
        if (hasWorkers && hasNodes)
            throw new InvalidSpecException("NodeCount", "-Operation Resize takes -WorkerCount (a self-managed cluster's workers) or -NodeCount (a managed cluster's node pool), not both.");
        if (hasNodes)
        {
            var nodes = NodeCount;
            return (Run(ct => manager.PlanResizeNodesAsync(state.Id, nodes, ct)), state);
        }
        if (!hasWorkers)
            throw new InvalidSpecException("WorkerCount", "-Operation Resize needs the total number of workers wanted (-WorkerCount), or for a managed cluster the node pool's size (-NodeCount).");
        var workers = WorkerCount;
        return (Run(ct => manager.PlanResizeAsync(state.Id, workers, ct)), state);
    }

    private static bool IsCommon(string name) =>
        name is "Verbose" or "Debug" or "ErrorAction" or "WarningAction" or "InformationAction" or "ProgressAction" or "ErrorVariable"
            or "WarningVariable" or "InformationVariable" or "OutVariable" or "OutBuffer" or "PipelineVariable";
}
