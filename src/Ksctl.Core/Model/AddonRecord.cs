namespace Ksctl.Core.Model;

/// <summary>An add-on Ksctl applied to a cluster: which pinned manifest, and every object it applied (what Remove deletes).</summary>
public sealed record AddonRecord
{
    public required string Name { get; init; }
    public required string Version { get; init; }
    /// <summary>SHA-256 of the pinned manifest that was applied.</summary>
    public required string Sha256 { get; init; }
    public DateTimeOffset InstalledAt { get; init; }
    public IReadOnlyList<AddonObjectRef> Objects { get; init; } = Array.Empty<AddonObjectRef>();
}

/// <summary>One applied object, by its identity in the API.</summary>
public sealed record AddonObjectRef(string ApiVersion, string Kind, string? Namespace, string Name);

/// <summary>An entry of Ksctl's add-on catalogue (Get-KsctlAddon -ListAvailable).</summary>
public sealed record AddonInfo(string Name, string Version, string Sha256, string Source, string Description);
