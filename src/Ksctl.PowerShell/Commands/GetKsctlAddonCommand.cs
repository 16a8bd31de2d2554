using System.Management.Automation;
using Ksctl.Core.Clusters;
using Ksctl.PowerShell.Completers;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// The add-ons Ksctl installed on a cluster (from its state), or with -ListAvailable Ksctl's catalogue: each pinned
/// manifest's version, SHA-256 and upstream source. -Addon filters by name (wildcards).
/// </summary>
[Cmdlet(VerbsCommon.Get, "KsctlAddon", DefaultParameterSetName = NameSet)]
[OutputType(typeof(KsctlAddon))]
public sealed class GetKsctlAddonCommand : ClusterTargetCmdlet
{
    private const string AvailableSet = "ListAvailable";

    /// <summary>Lists Ksctl's add-on catalogue instead of a cluster's add-ons.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AvailableSet)]
    public SwitchParameter ListAvailable { get; set; }

    /// <summary>Only the add-ons whose name matches (wildcards allowed).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(AddonNameCompleter))]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Addon { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == AvailableSet)
        {
            foreach (var info in ClusterManager.AvailableAddons.Where(a => Matches(a.Name))) WriteObject(AddonModels.Available(info));
            return;
        }
        var state = ResolveTarget();
        if (state is null) return;
        foreach (var record in state.Addons.Where(a => Matches(a.Name))) WriteObject(AddonModels.Installed(state, record));
    }

    private bool Matches(string name) =>
        Addon is null || Addon.Any(p => WildcardPattern.Get(p, WildcardOptions.IgnoreCase).IsMatch(name));
}
