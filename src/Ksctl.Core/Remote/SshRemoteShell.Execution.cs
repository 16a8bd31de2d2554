using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Ksctl.Core.Diagnostics;
using Microsoft.Extensions.Logging;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Ksctl.Core.Remote;

/// <summary>One command on its own exec channel: feeding standard input, timeouts, stopping a cancelled script on the machine.</summary>
internal sealed partial class SshRemoteShell
{
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
            var command = cmd;
            var token = runId is null ? linked.Token : CancellationToken.None;
            // ExecuteAsync opens the channel synchronously (a round trip on a blocked thread): on its own thread, so a
            // fan-out does not wait for the thread pool to grow (see ConnectOnOwnThreadAsync).
            var running = await Task.Factory.StartNew(() => command.ExecuteAsync(token), CancellationToken.None,
                TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
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


    private sealed record ExecOutcome(int? ExitCode, string StandardOutput, string StandardError, bool TimedOut, bool ConnectionLost);
}
