using System.Management.Automation;
using Ksctl.Core.Model;
using Ksctl.PowerShell.Completers;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Cmdlets that act on one existing cluster per pipeline record: by name (plus provider, type, region when the
/// name alone is ambiguous; all bind by property name) or by a <see cref="KsctlCluster"/> from Get-KsctlCluster.
/// </summary>
public abstract class ClusterTargetCmdlet : KsctlCmdlet
{
    protected const string NameSet = "Name";
    protected const string InputObjectSet = "InputObject";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ClusterNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter(ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [ValidateProvider]
    [ArgumentCompleter(typeof(ProviderCompleter))]
    public string? Provider { get; set; }

    [Parameter(ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [ValidateSet(Names.Managed, Names.SelfManaged)]
    public string? Type { get; set; }

    [Parameter(ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(RegionCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Region { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    [ValidateNotNull]
    public KsctlCluster? InputObject { get; set; }

    /// <summary>The name this record designates (for messages before resolution).</summary>
    protected string TargetName => InputObject?.Name ?? Name;

    /// <summary>The one cluster this record designates, or null after writing KsctlClusterNotFound/KsctlAmbiguousCluster.</summary>
    internal ClusterState? ResolveTarget()
    {
        var (name, provider, type, region) = InputObject is { } c
            ? (c.Name, c.Provider, c.Type, c.Region)
            : (Name, Provider, Type, Region);
        var manager = GetManager();
        try
        {
            return Run(ct => manager.ResolveAsync(name, Names.ParseEnum<CloudProvider>(provider), Names.ParseEnum<ClusterType>(type),
                string.IsNullOrWhiteSpace(region) ? null : region, ct));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, name);
            return null;
        }
    }
}
