using Azure;
using Azure.Storage.Blobs.Models;
using Ksctl.Core.Storage.AzureBlob;

namespace Ksctl.Core.Storage.Credentials;

/// <summary><c>credentials/&lt;provider&gt;.json</c> blobs in the state container; secrets encrypted with the state key.</summary>
internal sealed class BlobCredentialBackend(AzureBlobStateStore store) : ICredentialBackend
{
    private const string Prefix = CredentialStore.FolderName + "/";

    public string Location => $"{store.Description}/{Prefix}";
    public bool RequiresProtection => true;
    public Protection.ISecretProtector? Protector => store.SecretProtector;

    public Task<byte[]?> ReadAsync(string name, CancellationToken cancellationToken) => store.GuardAsync(async () =>
    {
        try
        {
            var result = await store.Container.GetBlobClient(Prefix + name).DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return (byte[]?)result.Value.Content.ToArray();
        }
        catch (RequestFailedException ex) when (ex.Status == 404) { return null; }
    }, cancellationToken);

    public Task WriteAsync(string name, byte[] content, CancellationToken cancellationToken) => store.GuardAsync(async () =>
    {
        await store.EnsureContainerReadyAsync(cancellationToken).ConfigureAwait(false);
        await store.Container.GetBlobClient(Prefix + name).UploadAsync(BinaryData.FromBytes(content),
            new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" } }, cancellationToken).ConfigureAwait(false);
        return true;
    }, cancellationToken);

    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) => store.GuardAsync(async () =>
    {
        try
        {
            var response = await store.Container.GetBlobClient(Prefix + name).DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return response.Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404) { return false; }
    }, cancellationToken);

    public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken) => store.GuardAsync(async () =>
    {
        var names = new List<string>();
        try
        {
            await foreach (var item in store.Container.GetBlobsAsync(new GetBlobsOptions { Prefix = Prefix }, cancellationToken).ConfigureAwait(false))
            {
                var name = item.Name[Prefix.Length..];
                if (!name.Contains('/') && name.EndsWith(".json", StringComparison.Ordinal)) names.Add(name);
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404) { } // no container yet
        return (IReadOnlyList<string>)names.Order(StringComparer.Ordinal).ToList();
    }, cancellationToken);
}
