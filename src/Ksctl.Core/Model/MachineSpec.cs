namespace Ksctl.Core.Model;

/// <summary>A machine the user already has (BareMetal provider): how to reach it over SSH and what it is for.</summary>
public sealed record MachineSpec
{
    public required string Address { get; init; }
    public int Port { get; init; } = 22;
    public string User { get; init; } = "root";
    public string? KeyPath { get; init; }
    /// <summary>The pinned host key fingerprint ("SHA256:..."), or null to learn it on first contact when trust-on-first-use is allowed.</summary>
    public string? HostKey { get; init; }
    public required NodeRole Role { get; init; }
    /// <summary>The address other machines use to reach this one; defaults to <see cref="Address"/>.</summary>
    public string? PrivateAddress { get; init; }
}
