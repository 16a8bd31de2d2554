namespace Ksctl.Core.Remote;

/// <summary>
/// An open SSH connection to one machine, reused by every script and upload of an operation. Dispose it when the
/// operation ends. Implementations reconnect (within the connect deadline) if the connection drops between scripts.
/// </summary>
public interface IRemoteShell : IAsyncDisposable
{
    /// <summary>The machine's display name.</summary>
    string Machine { get; }
    /// <summary>The fingerprint ("SHA256:...") of the host key the machine presented and we trusted.</summary>
    string HostKeyFingerprint { get; }
    /// <summary>True when no key was pinned and this one was accepted by trust-on-first-use: store it in state.</summary>
    bool HostKeyLearned { get; }

    /// <summary>
    /// Runs a script with bash, retrying within its budget. Returns on exit code 0; throws
    /// <see cref="Diagnostics.RemoteScriptException"/> when every attempt failed, <see cref="OperationCanceledException"/> when cancelled.
    /// </summary>
    Task<RemoteCommandResult> RunAsync(RemoteScript script, CancellationToken cancellationToken = default);

    /// <summary>Writes <paramref name="content"/> to <paramref name="remotePath"/> atomically (temp file + rename) with the given mode, creating parent folders.</summary>
    Task UploadAsync(ReadOnlyMemory<byte> content, string remotePath, UnixFileMode mode, CancellationToken cancellationToken = default);
}

/// <summary>Opens <see cref="IRemoteShell"/>s: the seam tests and providers substitute.</summary>
public interface IRemoteShellFactory
{
    /// <summary>
    /// Connects (retrying with backoff until the connect deadline) and verifies the host key before authenticating.
    /// Throws <see cref="Diagnostics.HostKeyMismatchException"/>, <see cref="Diagnostics.HostKeyUnknownException"/>,
    /// <see cref="Diagnostics.RemoteAuthenticationException"/> or <see cref="Diagnostics.RemoteConnectionException"/>.
    /// </summary>
    Task<IRemoteShell> ConnectAsync(RemoteMachine machine, CancellationToken cancellationToken = default);
}
