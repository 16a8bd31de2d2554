using System.Management.Automation;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Returns a cluster's kubeconfig as text (like `kind get kubeconfig`), or with -Path writes it alone to a file
/// (0600), refusing to replace an existing file unless -Force. The user's own kubeconfig is not touched. A Get:
/// no -WhatIf (the module's convention keeps ShouldProcess for state-changing verbs).
/// </summary>
[Cmdlet(VerbsCommon.Get, "KsctlKubeconfig", DefaultParameterSetName = NameSet)]
[OutputType(typeof(string), typeof(KsctlContext))]
public sealed class GetKsctlKubeconfigCommand : ClusterTargetCmdlet
{
    /// <summary>Writes the kubeconfig to this file instead of returning it; the file holds this cluster only.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>The name of the context (and of its cluster and user entries), instead of the cluster's context name.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ContextName { get; set; }

    /// <summary>With -Path: replaces an existing file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var state = ResolveTarget();
        if (state is null) return;
        var manager = GetManager();
        var id = state.Id;
        try
        {
            if (Path is null)
            {
                WriteObject(Run(ct => manager.GetKubeconfigAsync(id, ContextName, ct)));
                return;
            }
            // Writes only the file -Path names, and replaces an existing one only with -Force (KsctlFileExists otherwise).
            var path = GetUnresolvedProviderPathFromPSPath(Path);
            var result = Run(ct => manager.WriteKubeconfigAsync(id, path, ContextName, Force.IsPresent, ct));
            WriteObject(ModelMapper.ToContext(result));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
        }
    }
}
