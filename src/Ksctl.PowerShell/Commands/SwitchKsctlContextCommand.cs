using System.Management.Automation;
using Ksctl.Core.Kube;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Makes a cluster's context current: merges its kubeconfig into the first file of $env:KUBECONFIG (or
/// ~/.kube/config) without disturbing other entries, or writes it alone to -Path.
/// </summary>
[Cmdlet(VerbsCommon.Switch, "KsctlContext", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(KsctlContext))]
public sealed class SwitchKsctlContextCommand : ClusterTargetCmdlet
{
    /// <summary>A kubeconfig file to write with this cluster only (replaced), instead of merging into the user's.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

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
        var context = state.ContextName ?? id.DefaultContextName;
        if (!ShouldProcess(target, path is null ? $"Merge context '{context}' of cluster {id} and make it current" : $"Write kubeconfig of cluster {id} (context '{context}')"))
            return;
        try
        {
            var result = Run(ct => manager.SwitchContextAsync(id, path, ct));
            if (PassThru) WriteObject(ModelMapper.ToContext(result));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
        }
    }
}
