using System.Management.Automation;
using Ksctl.Core.Model;
using Ksctl.Core.Storage.Credentials;
using Ksctl.PowerShell.Completers;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>Deletes a stored cloud credential from the active state store. Confirms (ConfirmImpact High) unless -Force.</summary>
[Cmdlet(VerbsCommon.Remove, "KsctlCredential", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(KsctlCredentialInfo))]
public sealed class RemoveKsctlCredentialCommand : KsctlCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateProvider(CredentialsOnly = true)]
    [ArgumentCompleter(typeof(CredentialProviderCompleter))]
    public string[] Provider { get; set; } = [];

    /// <summary>Skips the confirmation prompt (never -WhatIf).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (ListCredentials() is not var (store, all)) return;
        foreach (var name in Provider)
        {
            var provider = Enum.Parse<CloudProvider>(name, ignoreCase: true);
            var found = all.FirstOrDefault(c => c.Provider == provider);
            if (found is null)
            {
                WriteError(new ErrorRecord(new ItemNotFoundException($"No {provider} credential is stored in {store.Location}."),
                    "KsctlCredentialNotFound", ErrorCategory.ObjectNotFound, name));
                continue;
            }
            var description = $"Removing the {provider} credential '{found.UserName}' from {store.Location}.";
            if (!ShouldProcessUnlessForced(Force, description, $"Remove the stored {provider} credential '{found.UserName}'?", "Confirm credential removal")) continue;
            try
            {
                Run(ct => store.RemoveAsync(provider, ct));
            }
            catch (Exception ex) when (ex is not PipelineStoppedException)
            {
                WriteFailure(ex, name);
                continue;
            }
            if (PassThru) WriteObject(ModelMapper.ToCredentialInfo(found, store.Location));
        }
    }
}
