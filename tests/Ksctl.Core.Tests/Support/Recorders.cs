using System.Collections.Concurrent;
using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Processes;
using Ksctl.Core.Providers;
using Ksctl.Core.Remote;
using Ksctl.Core.Storage;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Tests.Support;

/// <summary>A process runner that starts nothing: it records each request (and finds no executable unless told).</summary>
internal sealed class RecordingProcessRunner : IProcessRunner
{
    public ConcurrentQueue<string> Started { get; } = new();
    public ConcurrentQueue<string> Looked { get; } = new();

    public string? FindExecutable(string name)
    {
        Looked.Enqueue(name);
        return null;
    }

    public Task<ProcessResult> RunAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Started.Enqueue($"{fileName} {string.Join(' ', arguments)}");
        return Task.FromResult(new ProcessResult(1, "", "the recording runner starts no process"));
    }
}

/// <summary>
/// SSH shells that run nothing: every connection, script and upload is recorded; scripts succeed with plausible
/// answers for the few whose output Ksctl reads (a host name, the K3s token, the K3s kubeconfig).
/// </summary>
internal sealed class RecordingShells : IRemoteShellFactory
{
    public const string K3sToken = "K10-SECRET-JOIN-TOKEN-5b1f::server:0e7a";

    public ConcurrentQueue<RemoteMachine> Connects { get; } = new();
    public ConcurrentQueue<(string Machine, RemoteScript Script)> Scripts { get; } = new();
    public ConcurrentQueue<(string Machine, string Path, byte[] Content)> Uploads { get; } = new();

    public int RemoteCalls => Connects.Count + Scripts.Count + Uploads.Count;

    public Task<IRemoteShell> ConnectAsync(RemoteMachine machine, CancellationToken cancellationToken = default)
    {
        Connects.Enqueue(machine);
        return Task.FromResult<IRemoteShell>(new Shell(this, machine));
    }

    private sealed class Shell(RecordingShells owner, RemoteMachine machine) : IRemoteShell
    {
        public string Machine => machine.DisplayName;
        public string HostKeyFingerprint => machine.HostKeyFingerprint ?? "SHA256:LearnedOnFirstUse0000000000000000000000000";
        public bool HostKeyLearned => machine.HostKeyFingerprint is null;

        public Task<RemoteCommandResult> RunAsync(RemoteScript script, CancellationToken cancellationToken = default)
        {
            owner.Scripts.Enqueue((Machine, script));
            var output = script.Name switch
            {
                "machine:facts" => $"host-{machine.Address.Replace('.', '-')}\n",
                "k3s:read-token" => K3sToken + "\n",
                // What k3s writes from the agent secret Ksctl gave it: K10<ca hash>::node:<secret>.
                "k3s:read-tokens" => $"{K3sToken}\nK10-CA-HASH::node:{AgentSecret()}\n",
                "k3s:read-kubeconfig" => Samples.K3sKubeconfigWithCertificates,
                _ => "",
            };
            return Task.FromResult(new RemoteCommandResult { Machine = Machine, ScriptName = script.Name, StandardOutput = output });
        }

        private string AgentSecret() => owner.Uploads.LastOrDefault(u => u.Machine == Machine && u.Path == Ksctl.Core.Distributions.K3s.K3sUnits.AgentTokenFile) is { Content: { } c }
            ? System.Text.Encoding.UTF8.GetString(c).Trim() : "";

        public Task UploadAsync(ReadOnlyMemory<byte> content, string remotePath, UnixFileMode mode, CancellationToken cancellationToken = default)
        {
            owner.Uploads.Enqueue((Machine, remotePath, content.ToArray()));
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>A ClusterManager on the real providers whose processes and SSH are recorders, logging to a folder.</summary>
internal sealed class RecordedManager : IDisposable
{
    public RecordedManager(string home, IStateStore store, IProgress<KsctlEvent>? events = null)
    {
        Settings = KsctlSettings.LoadFile(home);
        Loggers = LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(LogLevel.Debug);
            if (events is not null) b.AddProvider(new EventLoggerProvider(events));
            b.AddProvider(new FileLoggerProvider(Settings.LogPath));
        });
        var services = new KsctlServices(Settings, Loggers, Processes, TimeProvider.System, _ => Shells);
        Manager = new ClusterManager(services, ProviderRegistry.CreateDefault(services), store, events);
    }

    public KsctlSettings Settings { get; }
    public ILoggerFactory Loggers { get; }
    public RecordingProcessRunner Processes { get; } = new();
    public RecordingShells Shells { get; } = new();
    public ClusterManager Manager { get; }

    public void Dispose()
    {
        Manager.Dispose();
        Loggers.Dispose();
    }
}
