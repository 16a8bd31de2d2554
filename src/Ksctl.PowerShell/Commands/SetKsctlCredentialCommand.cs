using System.Management.Automation;
using Ksctl.Core.Model;
using Ksctl.Core.Storage.Credentials;
using Ksctl.PowerShell.Completers;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Saves a cloud credential in the active state store (replacing the provider's previous one): a 0600 file in the
/// file store, a blob encrypted with the state key in Azure Blob Storage. The secret never reaches any stream.
/// </summary>
[Cmdlet(VerbsCommon.Set, "KsctlCredential", DefaultParameterSetName = CredentialSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(KsctlCredentialInfo))]
public sealed class SetKsctlCredentialCommand : KsctlCmdlet
{
    private const string CredentialSet = "Credential";
    private const string PathSet = "Path";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateProvider(CredentialsOnly = true)]
    [ArgumentCompleter(typeof(CredentialProviderCompleter))]
    public string Provider { get; set; } = "";

    /// <summary>User name: Azure client id, Aws access key id, any label for Civo. Password: the secret, secret access key or API token.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = CredentialSet)]
    [Credential]
    [ValidateNotNull]
    public PSCredential Credential { get; set; } = PSCredential.Empty;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? TenantId { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? SubscriptionId { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Region { get; set; }

    /// <summary>Gcp: a service-account key file (JSON); its content is stored, encrypted like every stored secret.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var provider = Enum.Parse<CloudProvider>(Provider, ignoreCase: true);
        if ((provider == CloudProvider.Gcp) != (ParameterSetName == PathSet))
        {
            WriteError(new ErrorRecord(new ArgumentException(provider == CloudProvider.Gcp
                    ? "A Gcp credential is a service-account key file: give -Path <key.json>."
                    : $"-Path (a key file) applies to Gcp only; the {provider} credential is given with -Credential."),
                "KsctlInvalidCredential", ErrorCategory.InvalidArgument, Provider));
            return;
        }
        if (ParameterSetName == PathSet)
        {
            StoredCredential key;
            try { key = Core.Providers.Gcp.GcpKeyFile.ToStoredCredential(GetUnresolvedProviderPathFromPSPath(Path), Region); }
            catch (Exception ex) when (ex is not PipelineStoppedException) { WriteFailure(ex, Path); return; }
            Save(key);
            return;
        }
        if (provider == CloudProvider.Azure && TenantId is null)
        {
            WriteError(new ErrorRecord(new ArgumentException("An Azure credential (a service principal) needs -TenantId."),
                "KsctlInvalidCredential", ErrorCategory.InvalidArgument, Provider));
            return;
        }
        var password = Credential.GetNetworkCredential().Password;
        if (string.IsNullOrWhiteSpace(Credential.UserName) || string.IsNullOrEmpty(password))
        {
            WriteError(new ErrorRecord(new ArgumentException("-Credential needs a user name (client id, access key id) and a password (secret, token)."),
                "KsctlInvalidCredential", ErrorCategory.InvalidArgument, Provider));
            return;
        }
        Save(new StoredCredential
        {
            Provider = provider,
            UserName = Credential.UserName.TrimStart('\\'),
            Secret = password,
            TenantId = TenantId,
            SubscriptionId = SubscriptionId,
            Region = Region,
        });
    }

    private void Save(StoredCredential credential)
    {
        var provider = credential.Provider;
        var manager = GetManager();
        CredentialStore store;
        try { store = manager.Credentials; }
        catch (Exception ex) when (ex is not PipelineStoppedException) { WriteFailure(ex, Provider); return; }
        if (!ShouldProcess($"{provider} credential '{credential.UserName}' in {store.Location}", "Save credential")) return;
        StoredCredential saved;
        try
        {
            saved = Run(ct => store.SetAsync(credential, ct));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, Provider);
            return;
        }
        WriteVerbose($"Saved the {provider} credential for '{saved.UserName}' in {store.Location}.");
        if (PassThru) WriteObject(ModelMapper.ToCredentialInfo(saved, store.Location));
    }
}
