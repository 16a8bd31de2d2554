namespace Ksctl.Benchmarks;

/// <summary>
/// The k3s stand-in of an artifact folder, with agents whose work is latency rather than computation: an agent checks
/// its flags and token file as the stand-in does, waits as a kubelet's start would (<see cref="Seconds"/>), and writes
/// the client certificate file Ksctl's join waits for. Servers are the unchanged stand-in (etcd, tokens, TLS, HAProxy
/// checks all real), so only the part that grows with the worker count stops spending this host's CPU.
/// </summary>
public static class SleepingAgents
{
    public const int Seconds = 2;

    public static void Install(string artifactFolder)
    {
        var dir = Path.Combine(artifactFolder, "k3s", "v1.33.1+k3s1");
        var k3s = Path.Combine(dir, "k3s");
        var text = File.ReadAllText(k3s);
        const string dispatch = "\ncase \"${1:-}\" in\n";
        var at = text.LastIndexOf(dispatch, StringComparison.Ordinal);
        if (at < 0) throw new InvalidOperationException("the k3s stand-in has no command dispatch to put the sleeping agent before");
        var agent = $$"""

            # Benchmark variant (tests/Ksctl.Benchmarks/SleepingAgents.cs): the agent's work is a wait, not computation.
            agent() {
              check_flags agent "$@"
              local token_file="" arg
              for arg in "$@"; do case "$arg" in --token-file=*) token_file=${arg#*=} ;; esac; done
              [[ -f "$token_file" ]] || die "agent needs --token-file"
              local data=/var/lib/rancher/k3s/agent
              mkdir -p "$data"
              printf '%s\n' "$*" >"$data/standin-args"
              sleep {{Seconds}}
              echo "sleeping agent $(hostname)" >"$data/client-kubelet.crt"
              exec sleep infinity
            }

            """;
        File.WriteAllText(k3s, text[..at] + agent + text[at..]);
        Ksctl.TestSupport.TestMachineHarness.WriteChecksums(dir);
    }
}
