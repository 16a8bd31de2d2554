using System.Management.Automation;
using Ksctl.Core.Kube;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Makes a cluster's context current: merges its kubeconfig into the file kubectl writes ($env:KUBECONFIG, else
/// ~/.kube/config) or into -Path, keeping every other entry and field of that file. Get-KsctlKubeconfig writes a
/// standalone file instead.
/// </summary>
[Cmdlet(VerbsCommon.Switch, "KsctlContext", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(KsctlContext))]
public sealed class SwitchKsctlContextCommand : ClusterTargetCmdlet
{
    /// <summary>The kubeconfig file to merge into (created if absent) instead of the user's.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>The name of the context (and of its cluster and user entries) to add, instead of the cluster's context name.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ContextName { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var state = ResolveTarget();
        if (state is null) return;
        var manager = GetManager();
        var id = state.Id;
        var path = Path is null ? null : GetUnresolvedProviderPathFromPSPath(Path);
        var target = path ?? KubeconfigFile.DefaultUserPath();
        var context = ContextName ?? state.ContextName ?? id.DefaultContextName;
        if (!ShouldProcess(target, $"Merge context '{context}' of cluster {id} and make it current"))
            return;
        try
        {
            var result = Run(ct => manager.SwitchContextAsync(id, path, ContextName, ct));
            if (PassThru) WriteObject(ModelMapper.ToContext(result));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
        }
    }
}
