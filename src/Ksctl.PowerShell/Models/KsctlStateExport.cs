namespace Ksctl.PowerShell.Models;

/// <summary>What Export-KsctlState wrote: the file, the clusters in it and the key that encrypts their secrets.</summary>
public sealed class KsctlStateExport
{
    public string Path { get; init; } = "";
    public int ClusterCount { get; init; }
    /// <summary>"name (Provider/Type, region)" of each exported cluster.</summary>
    public string[] Clusters { get; init; } = [];
    /// <summary>The key file, when secrets were encrypted (null: the clusters had no secrets).</summary>
    public string? KeyPath { get; init; }
    /// <summary>A non-secret fingerprint of the key.</summary>
    public string? KeyId { get; init; }
    /// <summary>True when the key file was created by this export.</summary>
    public bool KeyCreated { get; init; }
}
