using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage.AzureBlob;
using Ksctl.Core.Storage.Protection;

namespace Ksctl.Core.Storage.Credentials;

/// <summary>
/// Cloud credentials kept in the active state store, one document per provider: in the file store a 0600 file
/// <c>credentials/&lt;provider&gt;.json</c> under the state root; in Azure Blob Storage a blob of the same name whose
/// secret is encrypted (AES-GCM) with the state key. Nothing here ever puts a secret in a message.
/// </summary>
public sealed class CredentialStore
{
    public const string FolderName = "credentials";
    private readonly ICredentialBackend _backend;
    private readonly TimeProvider _time;

    private CredentialStore(ICredentialBackend backend, TimeProvider? time)
    {
        _backend = backend;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The credential store that lives beside <paramref name="store"/>.</summary>
    public static CredentialStore For(IStateStore store, TimeProvider? time = null) => store switch
    {
        FileStateStore file => new CredentialStore(new FileCredentialBackend(file.Root), time),
        AzureBlobStateStore blob => new CredentialStore(new BlobCredentialBackend(blob), time),
        _ => throw new KsctlException("KsctlNotImplemented", KsctlErrorCategory.NotImplemented,
            $"The state store '{store.Description}' cannot keep credentials."),
    };

    /// <summary>Where the credentials live (a folder or a container prefix).</summary>
    public string Location => _backend.Location;

    public static string DocumentName(CloudProvider provider) => provider.ToString().ToLowerInvariant() + ".json";

    /// <summary>Saves (replaces) the provider's credential; returns it with its new timestamp.</summary>
    public async Task<StoredCredential> SetAsync(StoredCredential credential, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(credential);
        if (string.IsNullOrWhiteSpace(credential.UserName)) throw new InvalidSpecException("Credential", "the user name (client id, access key id) is empty");
        if (string.IsNullOrEmpty(credential.Secret)) throw new InvalidSpecException("Credential", "the password (secret, token) is empty");
        var name = DocumentName(credential.Provider);
        var stamped = new StoredCredential
        {
            Provider = credential.Provider, UserName = credential.UserName, Secret = credential.Secret,
            TenantId = credential.TenantId, SubscriptionId = credential.SubscriptionId, Region = credential.Region,
            UpdatedAt = _time.GetUtcNow(),
        };
        var secret = stamped.Secret;
        var protector = _backend.Protector;
        if (protector is null && _backend.RequiresProtection) throw new StateKeyMissingException(Source(name));
        if (protector is not null) secret = protector.Protect(secret, Purpose(credential.Provider));
        var doc = new CredentialDocument
        {
            Provider = stamped.Provider, UserName = stamped.UserName, Secret = secret, TenantId = stamped.TenantId,
            SubscriptionId = stamped.SubscriptionId, Region = stamped.Region, UpdatedAt = stamped.UpdatedAt,
        };
        await _backend.WriteAsync(name, doc.ToBytes(), cancellationToken).ConfigureAwait(false);
        return stamped;
    }

    /// <summary>The provider's credential with its secret, or null. Decrypting needs the state key in a shared store.</summary>
    public async Task<StoredCredential?> GetAsync(CloudProvider provider, CancellationToken cancellationToken)
    {
        var doc = await ReadDocumentAsync(DocumentName(provider), cancellationToken).ConfigureAwait(false);
        return doc is null ? null : ToCredential(doc, DocumentName(provider), withSecret: true);
    }

    /// <summary>Every stored credential <b>without</b> its secret (Secret is empty): what Get-KsctlCredential shows. Needs no state key.</summary>
    public async Task<IReadOnlyList<StoredCredential>> ListAsync(CancellationToken cancellationToken)
    {
        var result = new List<StoredCredential>();
        foreach (var name in await _backend.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await ReadDocumentAsync(name, cancellationToken).ConfigureAwait(false) is { } doc && DocumentName(doc.Provider) == name)
                result.Add(ToCredential(doc, name, withSecret: false));
        }
        return result.OrderBy(c => c.Provider).ToList();
    }

    /// <summary>Removes the provider's credential; false when there was none.</summary>
    public Task<bool> RemoveAsync(CloudProvider provider, CancellationToken cancellationToken) =>
        _backend.DeleteAsync(DocumentName(provider), cancellationToken);

    private async Task<CredentialDocument?> ReadDocumentAsync(string name, CancellationToken cancellationToken)
    {
        var bytes = await _backend.ReadAsync(name, cancellationToken).ConfigureAwait(false);
        return bytes is null ? null : CredentialDocument.Parse(bytes, Source(name));
    }

    private StoredCredential ToCredential(CredentialDocument doc, string name, bool withSecret)
    {
        var secret = string.Empty;
        if (withSecret)
        {
            secret = ProtectedSecrets.Reveal(doc.Secret, Purpose(doc.Provider), () => _backend.Protector, Source(name));
        }
        return new StoredCredential
        {
            Provider = doc.Provider, UserName = doc.UserName, Secret = secret, TenantId = doc.TenantId,
            SubscriptionId = doc.SubscriptionId, Region = doc.Region, UpdatedAt = doc.UpdatedAt,
        };
    }

    private static string Purpose(CloudProvider provider) => $"credential:{provider.ToString().ToLowerInvariant()}";
    private string Source(string name) => $"{_backend.Location.TrimEnd('/')}/{name}";
}
