using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Remote;
using Xunit.Abstractions;

namespace Ksctl.Remote.Tests;

/// <summary>Collects events synchronously (Progress&lt;T&gt; would post them to a thread pool later).</summary>
internal sealed class EventSink : IProgress<KsctlEvent>
{
    public ConcurrentQueue<KsctlEvent> Events { get; } = new();
    public void Report(KsctlEvent value) => Events.Enqueue(value);
    public string AllText => string.Join("\n", Events.Select(e => e.Message));
}

[Collection(TestMachinesCollection.Name)]
public sealed class SshRemoteShellTests(TestMachinesFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan ConnectDeadline = TimeSpan.FromSeconds(4);
    /// <summary>For "refused without retrying": a one-shot refusal takes well under a second, retrying takes all of this.</summary>
    private static readonly TimeSpan RefusalDeadline = TimeSpan.FromMinutes(2);
    /// <summary>A test budget for something to happen on a machine: only turns a hang into a failure.</summary>
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(60);

    private static RemoteShellOptions FastOptions(bool tofu = false, params string[] secrets) => new()
    {
        ConnectDeadline = ConnectDeadline,
        ConnectAttemptTimeout = TimeSpan.FromSeconds(2),
        ConnectBackoffInitial = TimeSpan.FromMilliseconds(100),
        ConnectBackoffMax = TimeSpan.FromSeconds(1),
        ScriptBackoffInitial = TimeSpan.FromMilliseconds(50),
        ScriptBackoffMax = TimeSpan.FromMilliseconds(200),
        AllowTrustOnFirstUse = tofu,
        Secrets = secrets,
    };

    private TestMachine M(int i) => fixture.Machines[i];

    private static string Unique() => Guid.NewGuid().ToString("N")[..12];

    private static async Task<RemoteCommandResult> Run(IRemoteShell shell, string content, int retries = 0) =>
        await shell.RunAsync(new RemoteScript("test", content, retries, TimeSpan.FromSeconds(30)));

    [Fact]
    public async Task Run_returns_stdout_stderr_and_exit_code_over_a_pinned_connection()
    {
        var factory = new SshRemoteShellFactory(FastOptions());
        await using var shell = await factory.ConnectAsync(M(0).ToRemote());

        var result = await Run(shell, "echo hello; echo to-stderr >&2; hostname -I");
        // The connection is reused for a second script.
        var second = await Run(shell, "echo $((6 * 7))");

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("hello\n", result.StandardOutput);
        Assert.Contains(M(0).Address, result.StandardOutput);
        Assert.Equal("to-stderr\n", result.StandardError);
        Assert.Equal(1, result.Attempts);
        Assert.Equal(M(0).Name, result.Machine);
        Assert.Equal("42\n", second.StandardOutput);
        Assert.Equal(M(0).HostKey, shell.HostKeyFingerprint);
        Assert.False(shell.HostKeyLearned);
    }

    [Fact]
    public async Task Scripts_run_with_bash_and_standard_input_at_end_of_file()
    {
        var factory = new SshRemoteShellFactory(FastOptions());
        await using var shell = await factory.ConnectAsync(M(0).ToRemote());

        var result = await Run(shell, "set -euo pipefail\nx=$(cat)\n[[ -z \"$x\" ]] && echo \"bash ${BASH_VERSINFO[0]} stdin-empty\"\n");

        Assert.Matches(@"^bash \d+ stdin-empty\n$", result.StandardOutput);
    }

    [Fact]
    public async Task Non_zero_exit_throws_RemoteScriptException_with_the_error_output()
    {
        var factory = new SshRemoteShellFactory(FastOptions());
        await using var shell = await factory.ConnectAsync(M(0).ToRemote());

        var ex = await Assert.ThrowsAsync<RemoteScriptException>(() =>
            shell.RunAsync(new RemoteScript("etcd:install", "echo some-output; echo boom-detail >&2; exit 3")));

        Assert.Equal("KsctlRemoteScriptFailed", ex.ErrorId);
        Assert.Equal(KsctlErrorCategory.InvalidResult, ex.Category);
        Assert.Equal(3, ex.ExitCode);
        Assert.Equal("etcd:install", ex.ScriptName);
        Assert.Equal(M(0).Name, ex.Machine);
        Assert.Contains("boom-detail", ex.StandardErrorTail);
        Assert.Contains("boom-detail", ex.Message);
        Assert.Contains(M(0).Name, ex.Message);
        Assert.False(ex.TimedOut);
    }

    [Fact]
    public async Task Upload_writes_the_content_with_the_requested_mode()
    {
        var factory = new SshRemoteShellFactory(FastOptions());
        await using var shell = await factory.ConnectAsync(M(1).ToRemote());
        var path = $"/opt/ksctl-test-{Unique()}/sub dir/secret.key";
        var content = Encoding.UTF8.GetBytes("line1\nit's \"quoted\" $HOME `x`\n");

        await shell.UploadAsync(content, path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var stat = await Run(shell, $"stat -c '%a %s' '{path}'; sha256sum < '{path}' | cut -d' ' -f1; ls \"$(dirname '{path}')\" | wc -l");

        var lines = stat.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"600 {content.Length}", lines[0]);
        Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(content)).ToLowerInvariant(), lines[1]);
        Assert.Equal("1", lines[2]); // no temp file left beside it

        // Uploading again replaces the file atomically and may change the mode.
        await shell.UploadAsync("v2"u8.ToArray(), path, (UnixFileMode)0b111_101_101);
        var again = await Run(shell, $"stat -c '%a' '{path}'; cat '{path}'");
        Assert.Equal("755\nv2", again.StandardOutput);
    }

    [Fact]
    public async Task Rsa_key_given_as_pem_text_authenticates()
    {
        var factory = new SshRemoteShellFactory(FastOptions());
        var machine = M(1).ToRemote() with { PrivateKeyPath = null, PrivateKeyPem = await File.ReadAllTextAsync(M(1).RsaKeyPath) };
        await using var shell = await factory.ConnectAsync(machine);

        var result = await Run(shell, "whoami");

        Assert.Equal("root\n", result.StandardOutput);
    }

    [Fact]
    public async Task Wrong_pinned_host_key_refuses_the_connection_and_runs_nothing()
    {
        // A deadline minutes away: refusing at once vs retrying until it are far apart under any load.
        var factory = new SshRemoteShellFactory(FastOptions() with { ConnectDeadline = RefusalDeadline });
        var marker = $"/opt/marker-{Unique()}";
        var wrong = M(2).HostKey[..^4] + (M(2).HostKey.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        var watch = Stopwatch.StartNew();

        var results = await factory.RunOnAllAsync([M(2).ToRemote(wrong)], new RemoteScript("marker", $"touch {marker}"), 2);

        var ex = Assert.IsType<HostKeyMismatchException>(results.Single().Error);
        Assert.Equal("KsctlHostKeyMismatch", ex.ErrorId);
        Assert.Equal(KsctlErrorCategory.SecurityError, ex.Category);
        Assert.Contains(M(2).Name, ex.Message);
        Assert.Contains(wrong, ex.Message);
        Assert.Contains(M(2).HostKey, ex.Message);
        Assert.Equal(M(2).HostKey, ex.ActualFingerprint);
        // Refused at once: a security verdict is not retried until the deadline.
        Assert.True(watch.Elapsed < RefusalDeadline, $"took {watch.Elapsed}: retried until the deadline");

        await using var trusted = await factory.ConnectAsync(M(2).ToRemote());
        var check = await Run(trusted, $"if [ -e {marker} ]; then echo present; else echo absent; fi");
        Assert.Equal("absent\n", check.StandardOutput);
    }

    [Fact]
    public async Task Trust_on_first_use_records_the_real_fingerprint()
    {
        var factory = new SshRemoteShellFactory(FastOptions(tofu: true));
        await using var shell = await factory.ConnectAsync(M(1).ToRemote(pin: false));

        await Run(shell, "true");

        Assert.True(shell.HostKeyLearned);
        Assert.Equal(M(1).HostKey, shell.HostKeyFingerprint);
    }

    [Fact]
    public async Task Without_a_pinned_key_and_without_trust_on_first_use_the_connection_is_refused()
    {
        var factory = new SshRemoteShellFactory(FastOptions(tofu: false));

        var ex = await Assert.ThrowsAsync<HostKeyUnknownException>(() => factory.ConnectAsync(M(1).ToRemote(pin: false)));

        Assert.Equal("KsctlHostKeyUnknown", ex.ErrorId);
        Assert.Equal(M(1).HostKey, ex.ActualFingerprint);
        Assert.Contains(M(1).Name, ex.Message);
    }

    [Fact]
    public async Task Unreachable_machine_fails_after_the_deadline_naming_it_and_works_again_once_restarted()
    {
        var deadline = TimeSpan.FromSeconds(2);
        var factory = new SshRemoteShellFactory(FastOptions() with { ConnectDeadline = deadline });
        var target = M(2);
        fixture.StopMachine(target.Index);
        try
        {
            var watch = Stopwatch.StartNew();
            var ex = await Assert.ThrowsAsync<RemoteConnectionException>(() => factory.ConnectAsync(target.ToRemote()));
            watch.Stop();

            Assert.Equal("KsctlRemoteUnreachable", ex.ErrorId);
            Assert.Equal(KsctlErrorCategory.ConnectionError, ex.Category);
            Assert.Contains(target.Name, ex.Message);
            Assert.Equal(target.Name, ex.Machine);
            Assert.True(ex.Attempts > 1, $"attempts {ex.Attempts}");
            Assert.True(watch.Elapsed >= deadline - TimeSpan.FromMilliseconds(100), $"gave up after {watch.Elapsed}");
            // It gives up (the last attempt may overrun the deadline by up to one attempt's timeout, more under load).
            Assert.True(watch.Elapsed < deadline + FastOptions().ConnectAttemptTimeout + Budget, $"gave up after {watch.Elapsed}");
        }
        finally
        {
            fixture.StartMachine(target.Index);
        }

        await using var shell = await new SshRemoteShellFactory(FastOptions()).ConnectAsync(target.ToRemote());
        Assert.Equal("up\n", (await Run(shell, "echo up")).StandardOutput);
    }

    [Fact]
    public async Task Connecting_waits_for_a_machine_that_comes_up_before_the_deadline()
    {
        var factory = new SshRemoteShellFactory(FastOptions() with { ConnectDeadline = TimeSpan.FromSeconds(20) });
        var target = M(2);
        fixture.StopMachine(target.Index);
        Task<IRemoteShell> connecting;
        try
        {
            connecting = factory.ConnectAsync(target.ToRemote());
            await Task.Delay(TimeSpan.FromSeconds(1)); // test choreography: let a few attempts fail
            Assert.False(connecting.IsCompleted);
        }
        finally
        {
            fixture.StartMachine(target.Index);
        }

        await using var shell = await connecting;
        Assert.Equal("up\n", (await Run(shell, "echo up")).StandardOutput);
    }

    [Fact]
    public async Task Cancelling_a_long_script_returns_promptly_and_stops_it_on_the_machine()
    {
        var factory = new SshRemoteShellFactory(FastOptions());
        await using var shell = await factory.ConnectAsync(M(0).ToRemote());
        var pidFile = $"/opt/sleeper-{Unique()}.pid";
        using var cts = new CancellationTokenSource();
        // The script would run for 10 minutes: returning within the budget at all means it was cancelled, not awaited.
        var running = shell.RunAsync(new RemoteScript("sleeper", $"echo $$ > {pidFile}; sleep 600", retries: 3), cts.Token);
        var pid = await WaitForFileAsync(shell, pidFile);

        var watch = Stopwatch.StartNew();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(Budget));
        watch.Stop();
        output.WriteLine($"cancellation returned after {watch.Elapsed.TotalSeconds:0.00} s (measured from the cancel)");

        // The script's process is terminated on the machine too.
        await AssertEndsOnTheMachineAsync(shell, pid);
        // The shell stays usable after a cancelled script.
        Assert.Equal("ok\n", (await Run(shell, "echo ok")).StandardOutput);
    }

    [Fact]
    public async Task A_non_root_user_runs_scripts_and_uploads_as_root_through_sudo()
    {
        var factory = new SshRemoteShellFactory(FastOptions());
        Assert.Equal(TestMachinesFixture.SudoUser, M(1).SudoUser);
        await using var shell = await factory.ConnectAsync(M(1).ToRemote() with { User = M(1).SudoUser });
        var path = $"/etc/kubernetes/ksctl-{Unique()}/token";

        var who = await Run(shell, "id -un; echo \"$SUDO_USER\"");
        await shell.UploadAsync("s3cr3t"u8.ToArray(), path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var stat = await Run(shell, $"stat -c '%a %U %s' {path}");

        Assert.Equal($"root\n{M(1).SudoUser}\n", who.StandardOutput);
        Assert.Equal("600 root 6\n", stat.StandardOutput);
    }

    [Fact]
    public async Task Cancelling_a_sudo_script_stops_it_on_the_machine()
    {
        var factory = new SshRemoteShellFactory(FastOptions());
        await using var shell = await factory.ConnectAsync(M(0).ToRemote() with { User = M(0).SudoUser });
        var pidFile = $"/opt/sudo-sleeper-{Unique()}.pid";
        using var cts = new CancellationTokenSource();
        var running = shell.RunAsync(new RemoteScript("sleeper", $"echo $$ > {pidFile}; sleep 600"), cts.Token);
        var pid = await WaitForFileAsync(shell, pidFile);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running.WaitAsync(Budget));

        await AssertEndsOnTheMachineAsync(shell, pid);
    }

    [Fact]
    public async Task Cancelling_before_connecting_throws_OperationCanceledException()
    {
        var factory = new SshRemoteShellFactory(FastOptions());
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => factory.ConnectAsync(M(0).ToRemote(), cts.Token));
    }

    [Fact]
    public async Task A_script_that_exceeds_its_timeout_fails_with_a_timeout_error()
    {
        var factory = new SshRemoteShellFactory(FastOptions());
        await using var shell = await factory.ConnectAsync(M(0).ToRemote());
        var watch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<RemoteScriptException>(() =>
            shell.RunAsync(new RemoteScript("slow", "echo starting >&2; sleep 20", retries: 1, timeout: TimeSpan.FromMilliseconds(700))));

        Assert.True(ex.TimedOut);
        Assert.Equal("KsctlRemoteScriptTimeout", ex.ErrorId);
        Assert.Equal(KsctlErrorCategory.OperationTimeout, ex.Category);
        Assert.Equal(2, ex.Attempts);
        Assert.Null(ex.ExitCode);
        // Each attempt was stopped at its timeout: two waited-for attempts would take 40 s (2 x sleep 20).
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}: the scripts were waited for");
    }

    [Fact]
    public async Task Fan_out_runs_one_script_on_every_machine()
    {
        var factory = new SshRemoteShellFactory(FastOptions());
        var machines = fixture.Machines.Select(m => m.ToRemote()).ToList();

        var results = await factory.RunOnAllAsync(machines, new RemoteScript("whoami", "hostname -I"), maxParallelism: 2);

        var values = results.ThrowIfAnyFailed();
        Assert.Equal(fixture.Machines.Count, values.Count);
        for (var i = 0; i < machines.Count; i++)
        {
            Assert.Equal(fixture.Machines[i].Name, results[i].Machine);
            Assert.Equal($"{fixture.Machines[i].Address} {fixture.Machines[i].PrivateAddress}", values[i].StandardOutput.Trim());
        }
    }

    [Fact]
    public async Task Fan_out_reports_each_machine_failure_without_hiding_the_others()
    {
        var factory = new SshRemoteShellFactory(FastOptions());
        await using var a = await factory.ConnectAsync(M(0).ToRemote());
        await using var b = await factory.ConnectAsync(M(1).ToRemote());
        var script = new RemoteScript("only-on-11", "hostname -I | grep -q '\\.11 ' || { echo not-eleven >&2; exit 4; }");

        var results = await RemoteFanOut.RunOnAllAsync([a, b], script, 2);

        Assert.True(results[0].Succeeded);
        var ex = Assert.IsType<RemoteScriptException>(results[1].Error);
        Assert.Equal(4, ex.ExitCode);
        Assert.Equal(M(1).Name, ex.Machine);
        Assert.Throws<RemoteScriptException>(() => results.ThrowIfAnyFailed());
    }

    [Fact]
    public async Task A_failing_script_is_retried_within_its_budget()
    {
        var factory = new SshRemoteShellFactory(FastOptions());
        await using var shell = await factory.ConnectAsync(M(1).ToRemote());
        var state = $"/opt/retry-{Unique()}";
        var flaky = $"if [ -e {state} ]; then echo second-time; else touch {state}; echo first-time-fails >&2; exit 1; fi";

        var result = await shell.RunAsync(new RemoteScript("flaky", flaky, retries: 1));

        Assert.Equal(2, result.Attempts);
        Assert.Equal("second-time\n", result.StandardOutput);

        var state2 = $"/opt/retry-{Unique()}";
        var ex = await Assert.ThrowsAsync<RemoteScriptException>(() =>
            shell.RunAsync(new RemoteScript("flaky-no-budget", flaky.Replace(state, state2), retries: 0)));
        Assert.Equal(1, ex.Attempts);
        Assert.Contains("first-time-fails", ex.StandardErrorTail);
    }

    /// <summary>Kills this SSH connection's own sshd session process (and nothing else on the shared host).</summary>
    private const string KillOwnConnection = """
        p=$$
        while [ "$p" -gt 1 ]; do
          p=$(awk '/^PPid:/ {print $2}' "/proc/$p/status")
          if grep -q '^sshd' "/proc/$p/comm"; then kill -9 "$p"; break; fi
        done
        sleep 5
        """;

    [Fact]
    public async Task A_dropped_connection_is_reopened_and_the_script_retried()
    {
        var factory = new SshRemoteShellFactory(FastOptions());
        await using var shell = await factory.ConnectAsync(M(1).ToRemote());
        var state = $"/opt/drop-{Unique()}";
        var script = $"if [ -e {state} ]; then echo reconnected; exit 0; fi\ntouch {state}\n" + KillOwnConnection;

        var result = await shell.RunAsync(new RemoteScript("drop", script, retries: 1, timeout: TimeSpan.FromSeconds(20)));

        Assert.Equal(2, result.Attempts);
        Assert.Equal("reconnected\n", result.StandardOutput);
        Assert.Equal("still\n", (await Run(shell, "echo still")).StandardOutput);
    }

    [Fact]
    public async Task Secrets_never_appear_in_errors_or_logs()
    {
        const string token = "K10-super-secret-join-token-123";
        const string globalSecret = "another-shared-secret-456";
        var sink = new EventSink();
        var factory = new SshRemoteShellFactory(FastOptions(false, globalSecret), sink);
        await using var shell = await factory.ConnectAsync(M(0).ToRemote());
        var script = new RemoteScript("k3s:join", $"echo \"joining with {token} and {globalSecret}\" >&2; exit 2", retries: 1)
        {
            Secrets = [token],
        };

        var ex = await Assert.ThrowsAsync<RemoteScriptException>(() => shell.RunAsync(script));

        Assert.DoesNotContain(token, ex.Message);
        Assert.DoesNotContain(globalSecret, ex.Message);
        Assert.DoesNotContain(token, ex.StandardErrorTail);
        Assert.Contains("joining with *** and ***", ex.StandardErrorTail);
        Assert.NotEmpty(sink.Events);
        Assert.DoesNotContain(token, sink.AllText);
        Assert.DoesNotContain(globalSecret, sink.AllText);
        Assert.Contains("k3s:join", sink.AllText);
        Assert.All(sink.Events, e => Assert.Equal("Remote", e.Component));
    }

    [Fact]
    public async Task A_missing_key_is_an_authentication_error_naming_the_machine()
    {
        var factory = new SshRemoteShellFactory(FastOptions());

        var ex = await Assert.ThrowsAsync<RemoteAuthenticationException>(() =>
            factory.ConnectAsync(M(0).ToRemote() with { PrivateKeyPath = "/nonexistent/key" }));

        Assert.Equal("KsctlRemoteAuthenticationFailed", ex.ErrorId);
        Assert.Contains(M(0).Name, ex.Message);
    }

    [Fact]
    public async Task A_key_the_machine_does_not_accept_is_refused_without_retrying_until_the_deadline()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var factory = new SshRemoteShellFactory(FastOptions() with { ConnectDeadline = RefusalDeadline });
        var watch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<RemoteAuthenticationException>(() =>
            factory.ConnectAsync(M(0).ToRemote() with { PrivateKeyPath = null, PrivateKeyPem = rsa.ExportRSAPrivateKeyPem() }));

        Assert.Contains(M(0).Name, ex.Message);
        Assert.True(watch.Elapsed < RefusalDeadline, $"took {watch.Elapsed}: retried until the deadline");
    }

    [Fact]
    public async Task A_refused_key_can_be_retried_until_the_deadline_for_fresh_cloud_machines()
    {
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var deadline = TimeSpan.FromSeconds(2);
        var factory = new SshRemoteShellFactory(FastOptions() with { ConnectDeadline = deadline, RetryAuthenticationFailures = true });
        var watch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<RemoteAuthenticationException>(() =>
            factory.ConnectAsync(M(0).ToRemote() with { PrivateKeyPath = null, PrivateKeyPem = rsa.ExportRSAPrivateKeyPem() }));

        Assert.True(watch.Elapsed >= deadline - TimeSpan.FromMilliseconds(100), $"gave up after {watch.Elapsed}");
        Assert.Contains("still refused", ex.Message);
    }

    /// <summary>Waits on the machine (not on a clock here) for the process to end; fails if it outlives the budget.</summary>
    private static async Task AssertEndsOnTheMachineAsync(IRemoteShell shell, int pid)
    {
        var seconds = (int)Budget.TotalSeconds;
        var r = await shell.RunAsync(new RemoteScript("wait-gone",
            $"for _ in $(seq {seconds * 10}); do kill -0 {pid} 2>/dev/null || {{ echo gone; exit 0; }}; sleep 0.1; done; echo alive", retries: 1, timeout: Budget + Budget));
        Assert.Equal("gone", r.StandardOutput.Trim());
    }

    private static async Task<int> WaitForFileAsync(IRemoteShell shell, string path)
    {
        var deadline = DateTime.UtcNow + Budget;
        while (true)
        {
            var r = await Run(shell, $"cat {path} 2>/dev/null || true");
            if (int.TryParse(r.StandardOutput.Trim(), out var pid)) return pid;
            if (DateTime.UtcNow > deadline) throw new TimeoutException(path + " never appeared");
            await Task.Delay(50);
        }
    }
}
