namespace Ksctl.Core.Storage.Credentials;

/// <summary>Where a store keeps credential documents, by name (<c>azure.json</c>).</summary>
internal interface ICredentialBackend
{
    /// <summary>Names where the documents live (for messages).</summary>
    string Location { get; }
    /// <summary>True when secrets must be encrypted with the state key before they are written (a shared store).</summary>
    bool RequiresProtection { get; }
    Protection.ISecretProtector? Protector { get; }
    Task<byte[]?> ReadAsync(string name, CancellationToken cancellationToken);
    Task WriteAsync(string name, byte[] content, CancellationToken cancellationToken);
    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);
    Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken);
}
