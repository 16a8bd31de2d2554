using Ksctl.Core.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Remote;

/// <summary>Opens SSH connections (SSH.NET underneath; none of its types cross this API).</summary>
public sealed class SshRemoteShellFactory : IRemoteShellFactory
{
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <param name="options">Timeouts, backoff and trust policy; defaults when null.</param>
    /// <param name="events">Receives log events (component "remote"); secrets are redacted before they get here.</param>
    public SshRemoteShellFactory(RemoteShellOptions? options = null, IProgress<KsctlEvent>? events = null)
        : this(options ?? new RemoteShellOptions(),
            events is null ? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance : new EventLoggerProvider(events).CreateLogger("Ksctl.Core.Remote"),
            TimeProvider.System)
    {
    }

    internal SshRemoteShellFactory(RemoteShellOptions options, ILogger logger, TimeProvider time)
    {
        Options = options;
        _logger = logger;
        _time = time;
    }

    public RemoteShellOptions Options { get; }

    public async Task<IRemoteShell> ConnectAsync(RemoteMachine machine, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var shell = new SshRemoteShell(machine, Options, _logger, _time);
        try
        {
            await shell.EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
            return shell;
        }
        catch
        {
            await shell.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
