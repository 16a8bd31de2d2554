namespace Ksctl.PowerShell.Models;

/// <summary>An add-on: one installed on a cluster (Get-KsctlAddon -Name), or a catalogue entry (-ListAvailable).</summary>
public sealed class KsctlAddon
{
    public string Name { get; init; } = "";
    public string Version { get; init; } = "";
    /// <summary>"name (Provider/Type, region)" of the cluster it is installed on; empty for a catalogue entry.</summary>
    public string Cluster { get; init; } = "";
    public bool Installed { get; init; }
    public DateTimeOffset? InstalledAt { get; init; }
    /// <summary>How many objects Ksctl applied (and Remove-KsctlAddon deletes).</summary>
    public int ObjectCount { get; init; }
    /// <summary>SHA-256 of the pinned manifest.</summary>
    public string Sha256 { get; init; } = "";
    /// <summary>Where the pinned manifest comes from (catalogue entries).</summary>
    public string Source { get; init; } = "";
    public string Description { get; init; } = "";

    public override string ToString() => $"{Name} {Version}";
}
