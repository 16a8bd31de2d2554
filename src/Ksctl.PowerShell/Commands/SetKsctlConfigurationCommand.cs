using System.Management.Automation;
using System.Security;
using Ksctl.Core.Configuration;
using Ksctl.Core.Storage.AzureBlob;
using Ksctl.Core.Storage.Protection;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Chooses the state store (a folder, or an Azure Blob Storage container) and saves the choice to config.json under
/// $env:KSCTL_HOME. Everything is validated before anything is saved. A connection string is saved only encrypted
/// with the state key; KSCTL_STATE_* environment variables override the saved values at run time.
/// </summary>
[Cmdlet(VerbsCommon.Set, "KsctlConfiguration", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(KsctlConfiguration))]
public sealed class SetKsctlConfigurationCommand : KsctlCmdlet
{
    [Parameter]
    [ValidateSet(Names.FileStore, Names.AzureBlobStore)]
    public string? StateStore { get; set; }

    /// <summary>The folder of the file state store (created on first use).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StatePath { get; set; }

    /// <summary>AzureBlob: https://account.blob.core.windows.net (Azure identity, or a SAS in the query).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StorageAccountUri { get; set; }

    /// <summary>AzureBlob: the container.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Container { get; set; }

    /// <summary>AzureBlob: an account connection string; saved encrypted with the state key.</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString? ConnectionString { get; set; }

    /// <summary>A file holding the state key (base64 of 32 bytes).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StateKeyPath { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        KsctlSettings settings;
        try
        {
            settings = KsctlSettings.LoadFile();
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(ex, "configuration"));
            return;
        }
        var updated = settings;
        if (StateStore is not null) updated = updated with { StateStore = Enum.Parse<StateStoreKind>(StateStore, ignoreCase: true) };
        if (StatePath is not null) updated = updated with { StatePath = ValidateStatePath(StatePath) };
        if (StateKeyPath is not null) updated = updated with { StateKeyPath = ValidateStateKeyPath(StateKeyPath) };
        if (Container is not null)
        {
            if (!KsctlSettings.IsValidContainerName(Container))
                Fail("KsctlInvalidContainer", $"Invalid value for -Container: '{Container}' is not a valid container name ({KsctlSettings.ContainerNameRule}).", Container);
            updated = updated with { Container = Container };
        }
        if (StorageAccountUri is not null)
        {
            ValidateAccountUri(StorageAccountUri, updated.Container);
            if (KsctlSettings.StoredAccountUriProblem(StorageAccountUri) is { } sas)
                Fail("KsctlInvalidStorageAccountUri", $"Invalid value for -StorageAccountUri: {sas}.", WithoutQuery(StorageAccountUri));
            // A new account without a new connection string: sign in with an Azure identity from now on.
            updated = updated with { StorageAccountUri = StorageAccountUri, ProtectedConnectionString = null };
        }
        if (ConnectionString is not null) updated = updated with { ProtectedConnectionString = ProtectConnectionString(updated, ConnectionString) };
        if (updated.StateStore == StateStoreKind.AzureBlob) ValidateBlobSettings(updated);

        var where = updated.StateStore == StateStoreKind.AzureBlob
            ? $"container '{updated.Container ?? "(in the Uri)"}' of {(updated.StorageAccountUri is { } u ? WithoutQuery(u) : "the account of the connection string")}"
            : $"'{updated.StatePath}'";
        // Under -WhatIf (or a declined -Confirm) nothing was saved: nothing but the what-if line, no warnings about a
        // configuration that does not exist, no -PassThru object describing it.
        if (!ShouldProcess(settings.ConfigPath, $"Set state store {updated.StateStore} at {where}")) return;
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
        KsctlSettings effective;
        try { effective = updated.WithEnvironment(); }
        catch (Exception ex) when (ex is not PipelineStoppedException) { effective = updated; WriteWarning(ex.Message); }
        if (effective.EnvironmentOverrides.Count > 0)
            WriteWarning($"The environment variables {string.Join(", ", effective.EnvironmentOverrides)} override the saved configuration in this session.");
        if (PassThru) WriteObject(ModelMapper.ToConfiguration(effective));
    }

    internal static string WithoutQuery(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var u) ? new UriBuilder(u) { Query = string.Empty }.Uri.AbsoluteUri.TrimEnd('/') : uri;

    private void Fail(string errorId, string message, object target) =>
        ThrowTerminatingError(new ErrorRecord(new ArgumentException(message), errorId, ErrorCategory.InvalidArgument, target));

    private void ValidateAccountUri(string value, string? container)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || string.IsNullOrEmpty(uri.Host))
        {
            Fail("KsctlInvalidStorageAccountUri", $"Invalid value for -StorageAccountUri: '{WithoutQuery(value)}' is not an absolute https:// Uri of a storage account " +
                "(https://<account>.blob.core.windows.net). For an http emulator use -ConnectionString.", WithoutQuery(value));
            return;
        }
        try
        {
            var containerUri = AzureBlobStateStore.ContainerUri(uri, container);
            var name = Uri.UnescapeDataString(containerUri.AbsolutePath.TrimEnd('/').Split('/')[^1]);
            if (!KsctlSettings.IsValidContainerName(name))
                Fail("KsctlInvalidContainer", $"Invalid value for -StorageAccountUri: the container '{name}' in it is not a valid container name ({KsctlSettings.ContainerNameRule}).", name);
        }
        catch (Ksctl.Core.Diagnostics.InvalidSpecException ex) when (ex.Parameter == "StateStoreUri")
        {
            Fail("KsctlInvalidStorageAccountUri", $"Invalid value for -StorageAccountUri: {ex.Rule}.", WithoutQuery(value));
        }
        catch (Ksctl.Core.Diagnostics.InvalidSpecException)
        {
            // No container yet, or another one: ValidateBlobSettings says so once every parameter is known.
        }
    }

    private void ValidateBlobSettings(KsctlSettings s)
    {
        var connectionFromEnvironment = !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(KsctlSettings.ConnectionStringVariable));
        if (s.StorageAccountUri is null && s.ProtectedConnectionString is null && !connectionFromEnvironment)
            Fail("KsctlStateStoreIncomplete", "The AzureBlob state store needs a storage account: give -StorageAccountUri (Azure identity) or -ConnectionString " +
                $"(or set {KsctlSettings.ConnectionStringVariable} in the environment).", "StorageAccountUri");
        var containerInUri = s.StorageAccountUri is { } u && Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.AbsolutePath.Trim('/').Length > 0;
        if (s.Container is null && !containerInUri)
            Fail("KsctlStateStoreIncomplete", "The AzureBlob state store needs a container: give -Container.", "Container");
        if (s.StorageAccountUri is not null && s.ProtectedConnectionString is null) ValidateContainerAgreement(s);
    }

    private void ValidateContainerAgreement(KsctlSettings s)
    {
        try { AzureBlobStateStore.ContainerUri(new Uri(s.StorageAccountUri!), s.Container); }
        catch (Ksctl.Core.Diagnostics.InvalidSpecException ex)
        {
            Fail("KsctlInvalidContainer", ex.Message, s.Container ?? "Container");
        }
    }

    private string ProtectConnectionString(KsctlSettings s, SecureString secure)
    {
        var plain = new System.Net.NetworkCredential(string.Empty, secure).Password;
        if (string.IsNullOrWhiteSpace(plain)) Fail("KsctlInvalidConnectionString", "Invalid value for -ConnectionString: it is empty.", "ConnectionString");
        try
        {
            // Parses it (no network): a malformed string fails here, before anything is saved.
            AzureBlobStateStore.FromConnectionString(plain, s.Container ?? "probe");
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            // Never the parser's message, which may echo part of the value: only our own rule.
            ThrowTerminatingError(new ErrorRecord(new ArgumentException("Invalid value for -ConnectionString: it is not an Azure Storage connection string " +
                    "(DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net, or one with a SAS)."),
                "KsctlInvalidConnectionString", ErrorCategory.InvalidArgument, "ConnectionString"));
        }
        try
        {
            return s.ProtectConnectionString(plain);
        }
        catch (StateKeyMissingException)
        {
            ThrowTerminatingError(new ErrorRecord(new InvalidOperationException(
                    "A connection string holds an account key, so Ksctl saves it only encrypted with the state key, and no state key is configured. " +
                    $"Give -StateKeyPath (a key file), or set {StateKey.EnvironmentVariable}/{StateKey.FileEnvironmentVariable}; " +
                    $"or do not save it and set {KsctlSettings.ConnectionStringVariable} in the environment instead."),
                "KsctlStateKeyMissing", ErrorCategory.SecurityError, "ConnectionString"));
            throw;
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(ex, "ConnectionString"));
            throw;
        }
    }

    private string ValidateStateKeyPath(string path)
    {
        var full = ResolvePath(path, "StateKeyPath", "KsctlInvalidStateKeyPath");
        if (!File.Exists(full))
            Fail("KsctlInvalidStateKeyPath", $"Invalid value for -StateKeyPath: '{full}' does not exist. Create a key with: [Convert]::ToBase64String([Security.Cryptography.RandomNumberGenerator]::GetBytes(32)) | Set-Content '{full}'", full);
        try { StateKey.FromFile(full); }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(ex, full));
        }
        return full;
    }

    private string ResolvePath(string path, string parameter, string errorId)
    {
        try
        {
            return System.IO.Path.GetFullPath(GetUnresolvedProviderPathFromPSPath(path));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"Invalid value for -{parameter}: '{path}' is not a valid file system path: {ex.Message}", ex),
                errorId, ErrorCategory.InvalidArgument, path));
            throw;
        }
    }

    private string ValidateStatePath(string path)
    {
        var full = ResolvePath(path, "StatePath", "KsctlInvalidStatePath");
        if (File.Exists(full))
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"Invalid value for -StatePath: '{full}' is a file; give a folder (it is created on first use)."),
                "KsctlInvalidStatePath", ErrorCategory.InvalidArgument, path));
        if (full.IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0)
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"Invalid value for -StatePath: '{full}' contains characters a path cannot hold."),
                "KsctlInvalidStatePath", ErrorCategory.InvalidArgument, path));
        return full;
    }
}
