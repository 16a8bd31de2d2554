using Ksctl.Core.Configuration;
using Ksctl.Core.Processes;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core;

/// <summary>What providers and distributions are built with (internal: these types must not cross the bridge).</summary>
internal sealed class KsctlServices(KsctlSettings settings, ILoggerFactory loggers, IProcessRunner processes, TimeProvider time,
    Func<Remote.RemoteShellOptions, Remote.IRemoteShellFactory>? remoteShells = null)
{
    /// <summary>Opens SSH connections with the given policy (tests substitute shorter deadlines or fakes).</summary>
    public Func<Remote.RemoteShellOptions, Remote.IRemoteShellFactory> RemoteShells { get; } =
        remoteShells ?? (options => new Remote.SshRemoteShellFactory(options, loggers.CreateLogger("Ksctl.Core.Remote"), time));

    public KsctlSettings Settings { get; } = settings;
    public ILoggerFactory Loggers { get; } = loggers;
    public IProcessRunner Processes { get; } = processes;
    public TimeProvider Time { get; } = time;
}
