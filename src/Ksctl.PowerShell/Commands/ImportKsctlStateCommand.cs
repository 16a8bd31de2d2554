using System.Management.Automation;
using Ksctl.Core.Model;
using Ksctl.Core.Storage.Transfer;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Reads a file written by Export-KsctlState and writes its clusters into the active store, each under its lock.
/// An existing cluster is not overwritten (KsctlClusterExists) unless -Force.
/// </summary>
[Cmdlet(VerbsData.Import, "KsctlState", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(KsctlCluster))]
public sealed class ImportKsctlStateCommand : KsctlCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>The key file the export was encrypted with.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? KeyPath { get; set; }

    /// <summary>Replaces clusters that already exist in the store.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var path = System.IO.Path.GetFullPath(GetUnresolvedProviderPathFromPSPath(Path));
        var keyPath = KeyPath is null ? null : System.IO.Path.GetFullPath(GetUnresolvedProviderPathFromPSPath(KeyPath));
        IReadOnlyList<ClusterState> states;
        try
        {
            states = StateArchive.Read(path, keyPath);
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, path);
            return;
        }
        var manager = GetManager();
        foreach (var state in states)
        {
            if (!ShouldProcess($"cluster {state.Id} in {manager.Store.Description}", Force ? "Import (replacing an existing cluster)" : "Import")) continue;
            try
            {
                Run(ct => manager.ImportAsync(state, Force, ct));
            }
            catch (Exception ex) when (ex is not PipelineStoppedException)
            {
                WriteFailure(ex, state.Id.Name);
                continue;
            }
            WriteVerbose($"Imported cluster {state.Id} into {manager.Store.Description}.");
            if (PassThru) WriteObject(ModelMapper.ToCluster(state));
        }
    }
}
