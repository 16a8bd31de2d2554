namespace Ksctl.Core.Storage.Credentials;

/// <summary><c>&lt;state root&gt;/credentials/&lt;provider&gt;.json</c>: 0600 files in a 0700 folder, like the state itself.</summary>
internal sealed class FileCredentialBackend(string stateRoot) : ICredentialBackend
{
    public string Folder { get; } = Path.Combine(stateRoot, CredentialStore.FolderName);
    public string Location => Folder;
    public bool RequiresProtection => false;
    /// <summary>DPAPI on Windows; elsewhere the 0600 file is the protection.</summary>
    public Protection.ISecretProtector? Protector { get; } = Protection.DpapiSecretProtector.ForThisPlatform();

    public async Task<byte[]?> ReadAsync(string name, CancellationToken cancellationToken)
    {
        var path = Path.Combine(Folder, name);
        try { return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false); }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
    }

    public Task WriteAsync(string name, byte[] content, CancellationToken cancellationToken)
    {
        SecureFile.EnsureDirectory(stateRoot);
        SecureFile.EnsureDirectory(Folder);
        SecureFile.WriteAtomic(Path.Combine(Folder, name), content);
        return Task.CompletedTask;
    }

    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var path = Path.Combine(Folder, name);
        if (!File.Exists(path)) return Task.FromResult(false);
        File.Delete(path);
        return Task.FromResult(true);
    }

    public Task<IReadOnlyList<string>> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>(Directory.Exists(Folder)
            ? Directory.GetFiles(Folder, "*.json").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList()
            : []);
}
