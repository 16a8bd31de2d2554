namespace Ksctl.PowerShell.Internal;

/// <summary>Allowed values of the string parameters that stand for Core enums (kept here so that importing the module loads no Core type).</summary>
internal static class Names
{
    public const string Local = "Local", Azure = "Azure", Civo = "Civo", BareMetal = "BareMetal";
    public const string Managed = "Managed", SelfManaged = "SelfManaged";
    public const string K3s = "K3s", Kubeadm = "Kubeadm";
    public const string FileStore = "File", AzureBlobStore = "AzureBlob";

    public static T? ParseEnum<T>(string? value) where T : struct, Enum =>
        string.IsNullOrWhiteSpace(value) ? null : Enum.Parse<T>(value.Trim(), ignoreCase: true);
}
