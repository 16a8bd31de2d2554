using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Ksctl.Core.Diagnostics;
using Microsoft.Extensions.Logging;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Ksctl.Core.Remote;

/// <summary>
/// <see cref="IRemoteShell"/> over SSH.NET: one <see cref="SshClient"/> per machine per operation, reused by every
/// script and upload (each runs on its own exec channel, so they may run concurrently).
/// </summary>
internal sealed partial class SshRemoteShell : IRemoteShell
{
    private readonly RemoteMachine _machine;
    private readonly RemoteShellOptions _options;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly SecretRedactor _redactor;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private IPrivateKeySource[]? _keys;
    private SshClient? _client;
    private bool _disposed;

    public SshRemoteShell(RemoteMachine machine, RemoteShellOptions options, ILogger logger, TimeProvider time)
    {
        _machine = machine;
        _options = options;
        _log = logger;
        _time = time;
        _redactor = new SecretRedactor(options.Secrets, machine.PrivateKeyPem is null ? null : [machine.PrivateKeyPem]);
    }

    public string Machine => _machine.DisplayName;
    public string HostKeyFingerprint { get; private set; } = "";
    public bool HostKeyLearned { get; private set; }

    internal bool IsConnected => _client?.IsConnected == true;

    public async Task<RemoteCommandResult> RunAsync(RemoteScript script, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(script);
        var redactor = _redactor.With(script.Secrets);
        var maxAttempts = 1 + Math.Max(0, script.Retries);
        var backoff = new JitteredBackoff(_options.ScriptBackoffInitial, _options.ScriptBackoffMax);
        var content = Encoding.UTF8.GetBytes(script.Content.Replace("\r\n", "\n", StringComparison.Ordinal));
        var watch = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _log.LogInformation("Running {Script} on {Machine} (attempt {Attempt}/{Max})", script.Name, Machine, attempt, maxAttempts);
            await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
            var outcome = await ExecuteScriptAsync(content, script.Timeout, cancellationToken).ConfigureAwait(false);
            if (outcome.ExitCode == 0)
            {
                _log.LogInformation("{Script} on {Machine} succeeded in {Seconds:0.0}s", script.Name, Machine, watch.Elapsed.TotalSeconds);
                return new RemoteCommandResult
                {
                    Machine = Machine,
                    ScriptName = script.Name,
                    ExitCode = 0,
                    StandardOutput = outcome.StandardOutput,
                    StandardError = outcome.StandardError,
                    Attempts = attempt,
                    Duration = watch.Elapsed,
                };
            }

            var tail = Tail(redactor.Redact(outcome.StandardError), _options.ErrorTailChars);
            var what = outcome.TimedOut ? $"timed out after {script.Timeout.TotalSeconds:0.#}s"
                : outcome.ConnectionLost ? "lost its connection"
                : $"exited with {outcome.ExitCode?.ToString() ?? "no code"}";
            if (attempt >= maxAttempts)
            {
                _log.LogError("{Script} on {Machine} {What} (attempt {Attempt}/{Max}): {Tail}", script.Name, Machine, what, attempt, maxAttempts, tail);
                throw new RemoteScriptException(script.Name, Machine, outcome.ExitCode, tail, attempt, outcome.TimedOut, script.Timeout);
            }
            var delay = backoff.Next();
            _log.LogWarning("{Script} on {Machine} {What} (attempt {Attempt}/{Max}); retrying in {Delay} ms: {Tail}",
                script.Name, Machine, what, attempt, maxAttempts, (int)delay.TotalMilliseconds, tail);
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task UploadAsync(ReadOnlyMemory<byte> content, string remotePath, UnixFileMode mode, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(remotePath);
        if (!remotePath.StartsWith('/')) throw new ArgumentException("The remote path must be absolute.", nameof(remotePath));
        var name = "upload " + remotePath;
        _log.LogInformation("Uploading {Path} ({Bytes} bytes, mode {Mode}) to {Machine}", remotePath, content.Length, ShellQuote.Octal(mode), Machine);
        await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
        var timeout = TimeSpan.FromMinutes(5);
        var outcome = await ExecuteAsync(RemoteWrappers.UploadCommand(remotePath, mode, content.Length), content, timeout, cancellationToken).ConfigureAwait(false);
        if (outcome.ExitCode != 0)
        {
            throw new RemoteScriptException(name, Machine, outcome.ExitCode, Tail(_redactor.Redact(outcome.StandardError), _options.ErrorTailChars), 1, outcome.TimedOut, timeout);
        }
    }

    public ValueTask DisposeAsync()
    {
        if (_disposed) return ValueTask.CompletedTask;
        _disposed = true;
        DropClient();
        foreach (var k in _keys ?? [])
        {
            (k as IDisposable)?.Dispose();
        }
        _connectLock.Dispose();
        return ValueTask.CompletedTask;
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

}
