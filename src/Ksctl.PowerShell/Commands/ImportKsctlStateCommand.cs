using System.Management.Automation;
using Ksctl.Core.Model;
using Ksctl.Core.Storage.Transfer;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Reads files written by Export-KsctlState and writes their clusters into the active store, each under its lock.
/// An existing cluster is not overwritten (KsctlClusterExists) unless -Force. -Path takes wildcards; -LiteralPath
/// (aliases PSPath, FullName) binds from Get-ChildItem and FileInfo objects.
/// </summary>
[Cmdlet(VerbsData.Import, "KsctlState", DefaultParameterSetName = PathSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(KsctlCluster))]
public sealed class ImportKsctlStateCommand : KsctlCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP", "FullName")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

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
        var keyPath = KeyPath is null ? null : System.IO.Path.GetFullPath(GetUnresolvedProviderPathFromPSPath(KeyPath));
        foreach (var path in Files()) Import(path, keyPath);
    }

    /// <summary>The files this record names: -LiteralPath as given, -Path with its wildcards expanded.</summary>
    private IEnumerable<string> Files()
    {
        if (ParameterSetName == LiteralPathSet)
        {
            foreach (var p in LiteralPath) yield return System.IO.Path.GetFullPath(GetUnresolvedProviderPathFromPSPath(p));
            yield break;
        }
        foreach (var p in Path)
        {
            if (!WildcardPattern.ContainsWildcardCharacters(p))
            {
                yield return System.IO.Path.GetFullPath(GetUnresolvedProviderPathFromPSPath(p));
                continue;
            }
            List<string> matches;
            try { matches = GetResolvedProviderPathFromPSPath(p, out _).ToList(); }
            catch (ItemNotFoundException) { matches = []; }
            // A wildcard that matches nothing is no error (like Get-ChildItem); a literal missing file is, from Core.
            foreach (var m in matches) yield return m;
        }
    }

    private void Import(string path, string? keyPath)
    {
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
            WriteVerbose($"Imported cluster {state.Id} from '{path}' into {manager.Store.Description}.");
            if (PassThru) WriteObject(ModelMapper.ToCluster(state));
        }
    }
}
