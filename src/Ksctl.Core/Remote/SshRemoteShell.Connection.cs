using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Ksctl.Core.Diagnostics;
using Microsoft.Extensions.Logging;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Ksctl.Core.Remote;

/// <summary>Connecting (retries until the deadline, host-key verdicts, keys) and dropping the connection.</summary>
internal sealed partial class SshRemoteShell
{
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
                await ConnectOnOwnThreadAsync(client, attemptCts.Token).ConfigureAwait(false);
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


    /// <summary>
    /// SSH.NET's connect blocks its thread while keys are exchanged and the user is authenticated (several round trips;
    /// its ConnectAsync awaits only the TCP connect and then waits on handles). On thread-pool threads, a fan-out to N
    /// machines then needs N pool threads at once, and the pool adds them one every half second or so: 32 machines
    /// behind a little latency connected one after another. A dedicated thread per connect keeps them side by side.
    /// <see cref="ConnectionInfo.Timeout"/> bounds each of its waits; cancellation abandons the attempt (the caller
    /// disposes the client, which ends the thread's wait).
    /// </summary>
    private static Task ConnectOnOwnThreadAsync(SshClient client, CancellationToken ct)
    {
        var connect = Task.Factory.StartNew(client.Connect, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        // An abandoned attempt's own failure (the disposed client) is expected: observe it so it is not reported as unobserved.
        _ = connect.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return connect.WaitAsync(ct);
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
}
