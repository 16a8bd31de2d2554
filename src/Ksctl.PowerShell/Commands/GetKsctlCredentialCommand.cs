using System.Management.Automation;
using Ksctl.Core.Model;
using Ksctl.Core.Storage.Credentials;
using Ksctl.PowerShell.Completers;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>Lists the cloud credentials stored in the active state store: who and where, never the secret.</summary>
[Cmdlet(VerbsCommon.Get, "KsctlCredential")]
[OutputType(typeof(KsctlCredentialInfo))]
public sealed class GetKsctlCredentialCommand : KsctlCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateProvider(CredentialsOnly = true)]
    [ArgumentCompleter(typeof(CredentialProviderCompleter))]
    public string[]? Provider { get; set; }

    protected override void ProcessRecord()
    {
        if (ListCredentials() is not var (store, all)) return;
        if (Provider is null || Provider.Length == 0)
        {
            foreach (var c in all) WriteObject(ModelMapper.ToCredentialInfo(c, store.Location));
            return;
        }
        foreach (var name in Provider)
        {
            var provider = Enum.Parse<CloudProvider>(name, ignoreCase: true);
            var found = all.FirstOrDefault(c => c.Provider == provider);
            if (found is null)
                WriteError(new ErrorRecord(new ItemNotFoundException($"No {provider} credential is stored in {store.Location}. Save one with Set-KsctlCredential."),
                    "KsctlCredentialNotFound", ErrorCategory.ObjectNotFound, name));
            else
                WriteObject(ModelMapper.ToCredentialInfo(found, store.Location));
        }
    }
}
