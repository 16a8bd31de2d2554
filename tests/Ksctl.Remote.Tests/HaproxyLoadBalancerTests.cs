using Ksctl.Core.Distributions.HAProxy;
using Ksctl.Core.Remote;

namespace Ksctl.Remote.Tests;

/// <summary>
/// Debian's HAProxy on a test machine, run from Debian's own unit by the systemctl shim, with our configuration, really
/// balancing TLS connections over two stand-in control planes (openssl s_server on :6443) and dropping a dead one.
/// </summary>
[Collection(TestMachinesCollection.Name)]
public sealed class HaproxyLoadBalancerTests(TestMachinesFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    private EventSink Sink { get; } = new();

    [Fact]
    public async Task Balances_round_robin_over_the_control_planes_and_stops_sending_to_a_dead_one()
    {
        Assert.True(File.Exists("/usr/sbin/haproxy") && File.Exists("/lib/systemd/system/haproxy.service"),
            "Debian's haproxy is the test load balancer: apt-get install -y haproxy");
        var factory = new SshRemoteShellFactory(new RemoteShellOptions { ScriptBackoffInitial = TimeSpan.FromMilliseconds(200) }, Sink);
        var (lbMachine, cp1, cp2) = (fixture.Machines[0], fixture.Machines[1], fixture.Machines[2]);
        await using var lb = await factory.ConnectAsync(lbMachine.ToRemote());
        await using var backend1 = await factory.ConnectAsync(cp1.ToRemote());
        await using var backend2 = await factory.ConnectAsync(cp2.ToRemote());
        try
        {
            await lb.UploadAsync(await File.ReadAllBytesAsync(RepoPaths.TestMachinesFile("systemctl-shim.sh")), "/usr/local/bin/systemctl", (UnixFileMode)0b111_101_101);
            await StartApiServerStandIn(backend1, cp1.Name);
            await StartApiServerStandIn(backend2, cp2.Name);

            var configured = await HaproxyInstaller.ConfigureAsync(lb, [cp1.Address, cp2.Address]);
            Assert.Contains("(re)started", configured.StandardOutput);
            var config = await Run(lb, $"cat {HaproxyScripts.ConfigPath}");
            Assert.Contains($"  server cp-0 {cp1.Address}:6443 check\n  server cp-1 {cp2.Address}:6443 check\n", config.StandardOutput);

            // Round robin: consecutive connections through the LB's private address alternate between the two.
            var answers = await PollAsync(lb, lbMachine.Address, a => a.Distinct().Count() == 2);
            Assert.Equal(answers.Count(a => a == cp1.Name), answers.Count(a => a == cp2.Name));
            Assert.All(answers.Zip(answers.Skip(1)), pair => Assert.NotEqual(pair.First, pair.Second));

            // The health check takes a dead control plane out: every connection then reaches the other one.
            await Run(backend2, "kill \"$(cat /opt/lbtest/pid)\"");
            answers = await PollAsync(lb, lbMachine.Address, a => a.All(x => x == cp1.Name));
            Assert.All(answers, a => Assert.Equal(cp1.Name, a));

            var again = await HaproxyInstaller.ConfigureAsync(lb, [cp1.Address, cp2.Address]);
            Assert.Contains("already configured and running", again.StandardOutput);
        }
        finally
        {
            foreach (var e in Sink.Events) output.WriteLine($"{e.Timestamp:HH:mm:ss.fff} {e.Level} {e.Message}");
            await BestEffort(lb, HaproxyScripts.Uninstall() + "rm -f /usr/local/bin/systemctl\n");
            await BestEffort(backend1, StopStandIn);
            await BestEffort(backend2, StopStandIn);
        }
    }

    private const string StopStandIn = "if [ -s /opt/lbtest/pid ]; then kill \"$(cat /opt/lbtest/pid)\" 2>/dev/null || true; fi\nrm -rf /opt/lbtest\n";

    /// <summary>A TLS server on :6443 that answers GET /who with the machine's name, like an API server stand-in.</summary>
    private static Task<RemoteCommandResult> StartApiServerStandIn(IRemoteShell shell, string name) => Run(shell, $"""
        set -euo pipefail
        {StopStandIn}
        mkdir -p /opt/lbtest && cd /opt/lbtest
        echo {name} > who
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem -out cert.pem -days 1 -subj /CN={name} 2>/dev/null
        setsid openssl s_server -quiet -accept 6443 -cert cert.pem -key key.pem -WWW </dev/null >log 2>&1 &
        echo $! > pid
        for _ in $(seq 50); do
          if (exec 3<>/dev/tcp/127.0.0.1/6443) 2>/dev/null; then exit 0; fi
          sleep 0.1
        done
        echo "stand-in did not listen" >&2; exit 1
        """);

    /// <summary>Four connections through the LB, repeated (deadline-polled) until the answers satisfy <paramref name="done"/>.</summary>
    private static async Task<IReadOnlyList<string>> PollAsync(IRemoteShell lb, string lbAddress, Func<IReadOnlyList<string>, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var delay = TimeSpan.FromMilliseconds(100);
        IReadOnlyList<string> answers = [];
        while (DateTime.UtcNow < deadline)
        {
            var r = await Run(lb, $"for _ in 1 2 3 4; do curl -sk --max-time 3 https://{lbAddress}:6443/who || echo failed; done");
            answers = r.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (answers.Count == 4 && done(answers)) return answers;
            await Task.Delay(delay);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
        }
        throw new TimeoutException("the load balancer never answered as expected; last answers: " + string.Join(", ", answers));
    }

    private static Task<RemoteCommandResult> Run(IRemoteShell shell, string content) =>
        shell.RunAsync(new RemoteScript("test", content, 0, TimeSpan.FromSeconds(60)));

    private static async Task BestEffort(IRemoteShell shell, string content)
    {
        try
        {
            await Run(shell, content);
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"cleanup on {shell.Machine} failed: {ex.Message}");
        }
    }
}

public sealed class HaproxyScriptsTests
{
    [Fact]
    public void The_config_balances_tcp_6443_round_robin_with_health_checks()
    {
        var config = HaproxyScripts.Config(["10.1.0.7", "10.1.0.8", "10.1.0.9"]);

        Assert.Contains("  mode tcp\n", config);
        Assert.Contains("  bind *:6443\n", config);
        Assert.Contains("  balance roundrobin\n", config);
        Assert.Contains("  option tcp-check\n", config);
        Assert.Contains("  server cp-0 10.1.0.7:6443 check\n  server cp-1 10.1.0.8:6443 check\n  server cp-2 10.1.0.9:6443 check\n", config);
        Assert.Throws<ArgumentException>(() => HaproxyScripts.Config([]));
        Assert.Throws<ArgumentException>(() => HaproxyScripts.Config(["cp.example"]));
    }

    [Fact]
    public void The_generated_config_is_valid_for_haproxy()
    {
        var file = Path.Combine(Path.GetTempPath(), $"ksctl-haproxy-{Guid.NewGuid():N}.cfg");
        File.WriteAllText(file, HaproxyScripts.Config(["10.1.0.7", "10.1.0.8"]));
        try
        {
            var psi = new System.Diagnostics.ProcessStartInfo("haproxy") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[] { "-c", "-f", file }) psi.ArgumentList.Add(a);
            using var p = System.Diagnostics.Process.Start(psi)!;
            var err = p.StandardError.ReadToEnd() + p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, err);
        }
        finally
        {
            File.Delete(file);
        }
    }

    public static TheoryData<string, string> Scripts() => new()
    {
        { "install", HaproxyScripts.Install(HaproxyScripts.Config(["10.1.0.7", "10.1.0.8"])) },
        { "uninstall", HaproxyScripts.Uninstall() },
    };

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Every_haproxy_script_passes_shellcheck(string name, string script) => ShellCheck.AssertClean(name, script);
}
