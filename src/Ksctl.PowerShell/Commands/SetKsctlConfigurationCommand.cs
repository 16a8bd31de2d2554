using System.Management.Automation;
using Ksctl.Core.Configuration;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>Chooses the state store and where the file store keeps state; saved to config.json under $env:KSCTL_HOME.</summary>
[Cmdlet(VerbsCommon.Set, "KsctlConfiguration", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(KsctlConfiguration))]
public sealed class SetKsctlConfigurationCommand : KsctlCmdlet
{
    [Parameter]
    [ValidateSet(Names.FileStore)]
    public string? StateStore { get; set; }

    /// <summary>The folder of the file state store (created on first use).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StatePath { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var settings = GetSettings();
        var updated = settings;
        if (StateStore is not null) updated = updated with { StateStore = Enum.Parse<StateStoreKind>(StateStore, ignoreCase: true) };
        if (StatePath is not null) updated = updated with { StatePath = ValidateStatePath(StatePath) };

        if (ShouldProcess(settings.ConfigPath, $"Set state store {updated.StateStore} at '{updated.StatePath}'"))
        {
            try
            {
                updated.Save();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                ThrowTerminatingError(new ErrorRecord(ex, "KsctlConfigurationWriteFailed", ErrorCategory.WriteError, settings.ConfigPath));
            }
            catch (Exception ex) when (ex is not PipelineStoppedException)
            {
                ThrowTerminatingError(ErrorMapper.ToErrorRecord(ex, settings.ConfigPath));
            }
        }
        if (PassThru) WriteObject(ModelMapper.ToConfiguration(updated));
    }

    private string ValidateStatePath(string path)
    {
        string full;
        try
        {
            full = System.IO.Path.GetFullPath(GetUnresolvedProviderPathFromPSPath(path));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"Invalid value for -StatePath: '{path}' is not a valid file system path: {ex.Message}", ex),
                "KsctlInvalidStatePath", ErrorCategory.InvalidArgument, path));
            throw;
        }
        if (File.Exists(full))
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"Invalid value for -StatePath: '{full}' is a file; give a folder (it is created on first use)."),
                "KsctlInvalidStatePath", ErrorCategory.InvalidArgument, path));
        if (full.IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0)
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"Invalid value for -StatePath: '{full}' contains characters a path cannot hold."),
                "KsctlInvalidStatePath", ErrorCategory.InvalidArgument, path));
        return full;
    }
}
