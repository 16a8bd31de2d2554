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
internal sealed class SshRemoteShell : IRemoteShell
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

    /// <summary>Connects unless already connected. Retries transient failures with jittered backoff until the connect deadline.</summary>
    internal async Task EnsureConnectedAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsConnected) return;
        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (IsConnected) return;
            DropClient();
            _client = await ConnectWithRetriesAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _connectLock.Release();
        }
    }

    private async Task<SshClient> ConnectWithRetriesAsync(CancellationToken ct)
    {
        _keys ??= LoadKeys();
        var started = _time.GetUtcNow();
        var deadline = started + _options.ConnectDeadline;
        var backoff = new JitteredBackoff(_options.ConnectBackoffInitial, _options.ConnectBackoffMax);
        var attempts = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            attempts++;
            var left = deadline - _time.GetUtcNow();
            var attemptTimeout = left < _options.ConnectAttemptTimeout ? left : _options.ConnectAttemptTimeout;
            if (attemptTimeout < TimeSpan.FromSeconds(1)) attemptTimeout = TimeSpan.FromSeconds(1);

            // A key learned on first use is pinned for every later reconnection of this operation.
            var check = new HostKeyCheck(_machine.HostKeyFingerprint ?? NullIfEmpty(HostKeyFingerprint), _options.AllowTrustOnFirstUse);
            var info = new ConnectionInfo(_machine.Address, _machine.Port, _machine.User, new PrivateKeyAuthenticationMethod(_machine.User, _keys))
            {
                Timeout = attemptTimeout,
            };
            var client = new SshClient(info) { KeepAliveInterval = TimeSpan.FromSeconds(30) };
            client.HostKeyReceived += check.OnHostKeyReceived;
            using var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            attemptCts.CancelAfter(attemptTimeout);
            try
            {
                _log.LogDebug("Connecting to {Machine} ({Endpoint}), attempt {Attempt}", Machine, _machine.Endpoint, attempts);
                await client.ConnectAsync(attemptCts.Token).ConfigureAwait(false);
                HostKeyLearned = HostKeyLearned || check.Learned;
                HostKeyFingerprint = check.Observed ?? HostKeyFingerprint;
                if (check.Learned)
                {
                    _log.LogWarning("Machine {Machine} had no pinned host key; trusted {Fingerprint} on first use", Machine, HostKeyFingerprint);
                }
                _log.LogInformation("Connected to {Machine} ({Endpoint}) after {Attempts} attempt(s)", Machine, _machine.Endpoint, attempts);
                return client;
            }
            catch (Exception ex)
            {
                client.Dispose();
                // Host key and authentication verdicts are final: retrying cannot fix them, and nothing ran.
                if (check.Mismatch) throw new HostKeyMismatchException(Machine, HostKeyFingerprints.Normalize(check.Expected!), check.Observed!);
                if (check.Unknown) throw new HostKeyUnknownException(Machine, check.Observed!);
                if (ct.IsCancellationRequested) throw new OperationCanceledException("Connecting to " + Machine + " was cancelled.", ex, ct);
                if (ex is SshAuthenticationException && !_options.RetryAuthenticationFailures)
                {
                    throw new RemoteAuthenticationException(Machine, _machine.User, _redactor.Redact(ex.Message), ex);
                }
                var reason = ex is OperationCanceledException ? $"attempt timed out after {attemptTimeout.TotalSeconds:0.#}s" : _redactor.Redact(ex.Message);
                var now = _time.GetUtcNow();
                if (now >= deadline)
                {
                    if (ex is SshAuthenticationException)
                    {
                        throw new RemoteAuthenticationException(Machine, _machine.User, $"{reason} (still refused after {attempts} attempt(s))", ex);
                    }
                    throw new RemoteConnectionException(Machine, _machine.Endpoint, attempts, now - started, reason, ex);
                }
                var delay = backoff.Next(deadline, _time);
                _log.LogDebug("Connecting to {Machine} failed ({Reason}); retrying in {Delay} ms", Machine, reason, (int)delay.TotalMilliseconds);
                await Task.Delay(delay, _time, ct).ConfigureAwait(false);
            }
        }
    }

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

    /// <summary>Runs the script wrapper; when cancelled or timed out, also terminates the script on the machine.</summary>
    private Task<ExecOutcome> ExecuteScriptAsync(ReadOnlyMemory<byte> content, TimeSpan timeout, CancellationToken ct)
    {
        var runId = RemoteWrappers.NewRunId();
        return ExecuteAsync(RemoteWrappers.ScriptCommand(runId, content.Length), content, timeout, ct, runId);
    }

    /// <summary>Best effort and bounded: a script left running is only a leak, scripts are idempotent.</summary>
    private async Task KillRemoteAsync(string runId)
    {
        try
        {
            if (!IsConnected) return;
            var outcome = await ExecuteAsync(RemoteWrappers.KillCommand(runId), ReadOnlyMemory<byte>.Empty, TimeSpan.FromSeconds(5), CancellationToken.None)
                .ConfigureAwait(false);
            _log.LogDebug("Stopping a cancelled script on {Machine}: exit {Exit}", Machine, outcome.ExitCode);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _log.LogDebug("Could not stop a cancelled script on {Machine}: {Reason}", Machine, _redactor.Redact(ex.Message));
        }
    }

    /// <summary>
    /// Runs one command on its own exec channel, feeding <paramref name="stdin"/>. For a script (<paramref name="runId"/>
    /// given), cancellation and timeout stop it on the machine through the wrapper's pid file (OpenSSH refuses "signal"
    /// requests for root sessions) and then let the channel close normally; other commands use SSH.NET's cancellation.
    /// </summary>
    private async Task<ExecOutcome> ExecuteAsync(string commandText, ReadOnlyMemory<byte> stdin, TimeSpan timeout, CancellationToken ct, string? runId = null)
    {
        var client = _client;
        if (client is null)
        {
            // Dropped by a concurrent command that saw the connection fail: the caller's next attempt reconnects.
            return new ExecOutcome(null, "", "the connection was lost", TimedOut: false, ConnectionLost: true);
        }
        using var timeoutCts = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeoutCts.Token);
        SshCommand? cmd = null;
        try
        {
            cmd = client.CreateCommand(commandText);
            var running = cmd.ExecuteAsync(runId is null ? linked.Token : CancellationToken.None);
            await using (var input = cmd.CreateInputStream())
            {
                // A script cut short here is refused by the wrapper, which checks the byte count before running it.
                await input.WriteAsync(stdin, linked.Token).ConfigureAwait(false);
            }
            if (runId is not null)
            {
                var stopped = Task.Delay(Timeout.InfiniteTimeSpan, linked.Token);
                if (await Task.WhenAny(running, stopped).ConfigureAwait(false) != running)
                {
                    await KillRemoteAsync(runId).ConfigureAwait(false);
                    if (await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(2), _time)).ConfigureAwait(false) != running)
                    {
                        TryCancel(cmd);
                    }
                    linked.Token.ThrowIfCancellationRequested();
                }
            }
            await running.ConfigureAwait(false);
            return new ExecOutcome(cmd.ExitStatus, cmd.Result, cmd.Error, TimedOut: false, ConnectionLost: false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            _log.LogInformation("Cancelled a command on {Machine}", Machine);
            throw;
        }
        catch (OperationCanceledException) when (timeoutCts.IsCancellationRequested)
        {
            return new ExecOutcome(null, SafeRead(() => cmd?.Result), SafeRead(() => cmd?.Error), TimedOut: true, ConnectionLost: false);
        }
        catch (Exception ex) when (ex is SshConnectionException or SocketException or SshOperationTimeoutException or ObjectDisposedException
                                       or SshException or IOException or InvalidOperationException)
        {
            // The connection dropped (machine rebooted, network blip): the next attempt reconnects.
            _log.LogWarning("Connection to {Machine} lost while running a command: {Reason}", Machine, _redactor.Redact(ex.Message));
            await _connectLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                if (ReferenceEquals(_client, client)) DropClient();
            }
            finally
            {
                _connectLock.Release();
            }
            return new ExecOutcome(null, "", ex.Message, TimedOut: false, ConnectionLost: true);
        }
        finally
        {
            cmd?.Dispose();
        }
    }

    private void TryCancel(SshCommand cmd)
    {
        try
        {
            cmd.CancelAsync(forceKill: true, millisecondsTimeout: 500);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _log.LogDebug("Closing a stopped command's channel on {Machine}: {Reason}", Machine, ex.Message);
        }
    }

    private static string SafeRead(Func<string?> read)
    {
        try { return read() ?? ""; }
        catch (Exception) { return ""; }
    }

    internal static string Tail(string text, int maxChars)
    {
        text = text.TrimEnd();
        return text.Length <= maxChars ? text : "..." + text[^maxChars..];
    }

    private IPrivateKeySource[] LoadKeys()
    {
        try
        {
            if (!string.IsNullOrWhiteSpace(_machine.PrivateKeyPem))
            {
                using var stream = new MemoryStream(Encoding.UTF8.GetBytes(_machine.PrivateKeyPem!));
                return [new PrivateKeyFile(stream)];
            }
            if (!string.IsNullOrWhiteSpace(_machine.PrivateKeyPath))
            {
                return [new PrivateKeyFile(_machine.PrivateKeyPath)];
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The key text itself is never quoted: only what went wrong.
            throw new RemoteAuthenticationException(Machine, _machine.User, $"the private key could not be loaded ({ex.GetType().Name}: {_redactor.Redact(ex.Message)})", ex);
        }
        throw new RemoteAuthenticationException(Machine, _machine.User, "no private key was given (PrivateKeyPath or PrivateKeyPem).");
    }

    private void DropClient()
    {
        var c = _client;
        _client = null;
        if (c is null) return;
        try
        {
            if (c.IsConnected) c.Disconnect();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _log.LogDebug("Disconnecting from {Machine}: {Reason}", Machine, ex.Message);
        }
        c.Dispose();
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

    private sealed record ExecOutcome(int? ExitCode, string StandardOutput, string StandardError, bool TimedOut, bool ConnectionLost);

    /// <summary>Decides inside SSH.NET's HostKeyReceived event, before authentication: a refused key means nothing can run.</summary>
    private sealed class HostKeyCheck(string? expected, bool allowTrustOnFirstUse)
    {
        public string? Expected { get; } = expected;
        public string? Observed { get; private set; }
        public bool Mismatch { get; private set; }
        public bool Unknown { get; private set; }
        public bool Learned { get; private set; }

        public void OnHostKeyReceived(object? sender, HostKeyEventArgs e)
        {
            Observed = HostKeyFingerprints.FromBase64(e.FingerPrintSHA256);
            if (Expected is not null)
            {
                Mismatch = !HostKeyFingerprints.AreEqual(Expected, Observed);
                e.CanTrust = !Mismatch;
            }
            else if (allowTrustOnFirstUse)
            {
                Learned = true;
                e.CanTrust = true;
            }
            else
            {
                Unknown = true;
                e.CanTrust = false;
            }
        }
    }
}
