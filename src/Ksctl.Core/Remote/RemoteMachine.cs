namespace Ksctl.Core.Remote;

/// <summary>How to reach one machine over SSH: address, user, private key (a file or PEM/OpenSSH text) and the pinned host key.</summary>
public sealed record RemoteMachine
{
    /// <summary>A name for messages and results (e.g. "demo-vm-db-0"); defaults to the address.</summary>
    public string? Name { get; init; }
    public required string Address { get; init; }
    public int Port { get; init; } = 22;
    public string User { get; init; } = "root";
    /// <summary>Path of an OpenSSH or PEM private key file (ed25519, RSA, ECDSA).</summary>
    public string? PrivateKeyPath { get; init; }
    /// <summary>The private key text itself (OpenSSH or PEM). A secret: never logged.</summary>
    public string? PrivateKeyPem { get; init; }
    /// <summary>Pinned host key fingerprint as OpenSSH prints it ("SHA256:base64"), or null to learn it (trust-on-first-use, when allowed).</summary>
    public string? HostKeyFingerprint { get; init; }

    /// <summary>The name used in messages: <see cref="Name"/> or the address.</summary>
    public string DisplayName => string.IsNullOrWhiteSpace(Name) ? Address : Name!;

    /// <summary>"address:port".</summary>
    public string Endpoint => Address.Contains(':') ? $"[{Address}]:{Port}" : $"{Address}:{Port}";

    /// <summary>Never prints the key material.</summary>
    public override string ToString() => $"{DisplayName} ({User}@{Endpoint})";
}
