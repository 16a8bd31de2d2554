using System.Security.Cryptography;
using System.Text;

namespace Ksctl.Core.Storage.Protection;

/// <summary>
/// The file store's protection on Windows: secrets encrypted with DPAPI for the current user, so a copied state
/// folder (a backup, another account) does not reveal them. Unix relies on 0600 files in 0700 folders instead,
/// where no per-user key store exists that every machine has.
/// </summary>
public sealed class DpapiSecretProtector : ISecretProtector
{
    public const string Prefix = "ksctl-dpapi:v1:";

    /// <summary>The file store's protector on this platform: DPAPI on Windows, none elsewhere.</summary>
    public static ISecretProtector? ForThisPlatform() => OperatingSystem.IsWindows() ? new DpapiSecretProtector() : null;

    private DpapiSecretProtector() { }

    public string KeyId => "dpapi-currentuser";

    public bool IsProtected(string value) => value.StartsWith(Prefix, StringComparison.Ordinal);

    public string Protect(string plaintext, string purpose)
    {
        if (!OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("DPAPI exists only on Windows.");
        return Prefix + Convert.ToBase64String(ProtectedData.Protect(Encoding.UTF8.GetBytes(plaintext), Entropy(purpose), DataProtectionScope.CurrentUser));
    }

    public string Unprotect(string protectedValue, string purpose)
    {
        if (!OperatingSystem.IsWindows()) throw new StateKeyInvalidException("DPAPI", "it was encrypted with DPAPI on Windows; only that Windows user can read it");
        if (!IsProtected(protectedValue)) throw new StateKeyInvalidException("DPAPI", "the value is not DPAPI-protected");
        try
        {
            return Encoding.UTF8.GetString(ProtectedData.Unprotect(Convert.FromBase64String(protectedValue[Prefix.Length..]), Entropy(purpose), DataProtectionScope.CurrentUser));
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            throw new StateKeyInvalidException("DPAPI", "it was encrypted by another Windows user or machine (DPAPI keys are per user)", ex);
        }
    }

    /// <summary>The purpose (the secret's name) is mixed in, so a value moved to another entry does not decrypt.</summary>
    private static byte[] Entropy(string purpose) => Encoding.UTF8.GetBytes("ksctl:" + purpose);
}
