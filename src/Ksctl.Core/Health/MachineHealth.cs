using System.Text.Json;
using Ksctl.Core.Distributions.HAProxy;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Health;

/// <summary>
/// The checks asked on the machines themselves over SSH (etcd's client port and HAProxy's stats page listen where only
/// the machine reaches them): each etcd member's own <c>/health</c> (etcd's HTTP health endpoint, over TLS with the
/// member's certificate, which etcd also accepts as a client certificate), and each backend of the load balancer as
/// HAProxy's stats report it. What the machines print is parsed as untrusted text: only the expected fields are read.
/// </summary>
internal static class MachineHealth
{
    // Exit 0 either way: the answer (or why there is none) is the result, not a failed script to retry.
    internal const string EtcdScript = """
        set -u
        if out=$(curl -sS --max-time 5 --cacert /etc/etcd/pki/ca.crt --cert /etc/etcd/pki/server.crt --key /etc/etcd/pki/server.key https://127.0.0.1:2379/health 2>&1); then
          printf 'answer %s\n' "$out"
        else
          printf 'noanswer %s\n' "$out"
        fi
        """;

    internal static readonly string HAProxyScript = $$"""
        set -u
        if out=$(curl -sS --max-time 5 '{{HAProxyLoadBalancer.StatsUrl}}' 2>&1); then
          printf '%s\n' "$out"
        else
          printf 'noanswer %s\n' "$out" | head -n 1
        fi
        """;

    public static async Task<HealthCheckResult> EtcdMemberAsync(Func<CancellationToken, Task<IRemoteShell>> connect, string target, CancellationToken ct)
    {
        string output;
        try
        {
            await using var shell = await connect(ct).ConfigureAwait(false);
            output = (await shell.RunAsync(new RemoteScript("health:etcd", EtcdScript, timeout: TimeSpan.FromSeconds(30)), ct).ConfigureAwait(false)).StandardOutput;
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            return new(HealthChecks.EtcdMember, target, false, "the member's machine could not be reached: " + KubernetesHealth.Innermost(ex));
        }
        return ParseEtcd(target, output);
    }

    internal static HealthCheckResult ParseEtcd(string target, string output)
    {
        var line = output.Trim();
        if (line.StartsWith("noanswer ", StringComparison.Ordinal))
            return new(HealthChecks.EtcdMember, target, false, "etcd does not answer on https://127.0.0.1:2379: " + KubernetesHealth.Short(line[9..]));
        if (!line.StartsWith("answer ", StringComparison.Ordinal))
            return new(HealthChecks.EtcdMember, target, false, "unexpected output from the health probe: " + KubernetesHealth.Short(line));
        var body = line[7..];
        try
        {
            using var doc = JsonDocument.Parse(body);
            var health = doc.RootElement.TryGetProperty("health", out var h) && h.ValueKind == JsonValueKind.String ? h.GetString() : null;
            var reason = doc.RootElement.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            return health == "true"
                ? new(HealthChecks.EtcdMember, target, true, "etcd reports health true")
                : new(HealthChecks.EtcdMember, target, false, $"etcd reports health {health ?? "missing"}{(string.IsNullOrEmpty(reason) ? "" : ": " + KubernetesHealth.Short(reason))}");
        }
        catch (JsonException)
        {
            return new(HealthChecks.EtcdMember, target, false, "etcd's /health answer is not JSON: " + KubernetesHealth.Short(body));
        }
    }

    /// <summary>One result per control plane the state records (a backend missing from the stats is a failure too).</summary>
    public static async Task<IReadOnlyList<HealthCheckResult>> LoadBalancerAsync(Func<CancellationToken, Task<IRemoteShell>> connect,
        IReadOnlyList<string> backends, CancellationToken ct)
    {
        string output;
        try
        {
            await using var shell = await connect(ct).ConfigureAwait(false);
            output = (await shell.RunAsync(new RemoteScript("health:haproxy", HAProxyScript, timeout: TimeSpan.FromSeconds(30)), ct).ConfigureAwait(false)).StandardOutput;
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            var reason = "the load balancer's machine could not be reached: " + KubernetesHealth.Innermost(ex);
            return backends.Select(b => new HealthCheckResult(HealthChecks.LoadBalancerBackend, b, false, reason)).ToList();
        }
        return ParseStats(backends, output);
    }

    /// <summary>
    /// Reads HAProxy's CSV stats (management guide, "9.1. CSV format": a "# pxname,svname,..." header, one line per
    /// proxy and server; "status" is UP, DOWN, "UP 1/2" while changing, NOLB, MAINT or "no check").
    /// </summary>
    internal static IReadOnlyList<HealthCheckResult> ParseStats(IReadOnlyList<string> backends, string output)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var header = lines.FirstOrDefault(l => l.StartsWith("# pxname,", StringComparison.Ordinal));
        if (header is null)
        {
            var why = lines.FirstOrDefault(l => l.StartsWith("noanswer ", StringComparison.Ordinal)) is { } n
                ? "HAProxy's stats page does not answer (" + KubernetesHealth.Short(n[9..]) + "); a load balancer configured by an older Ksctl has none"
                : "HAProxy's stats page gave no CSV header";
            return backends.Select(b => new HealthCheckResult(HealthChecks.LoadBalancerBackend, b, false, why)).ToList();
        }
        var columns = header[2..].Split(',');
        int Col(string name) => Array.IndexOf(columns, name);
        int px = Col("pxname"), sv = Col("svname"), status = Col("status"), check = Col("check_status"), desc = Col("check_desc");
        var rows = lines.Where(l => !l.StartsWith('#')).Select(l => l.Split(','))
            .Where(f => f.Length == columns.Length && f[px] == HAProxyLoadBalancer.Backend)
            .GroupBy(f => f[sv], StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var results = new List<HealthCheckResult>();
        foreach (var backend in backends)
        {
            if (!rows.TryGetValue(backend, out var row))
            {
                results.Add(new(HealthChecks.LoadBalancerBackend, backend, false, $"HAProxy has no server '{backend}' in backend {HAProxyLoadBalancer.Backend}"));
                continue;
            }
            var state = row[status];
            var detail = string.Join(" ", new[] { check >= 0 ? row[check] : "", desc >= 0 ? row[desc] : "" }.Where(s => s.Length > 0));
            results.Add(state == "UP"
                ? new(HealthChecks.LoadBalancerBackend, backend, true, "HAProxy reports it UP" + (detail.Length > 0 ? $" ({KubernetesHealth.Short(detail)})" : ""))
                : new(HealthChecks.LoadBalancerBackend, backend, false, $"HAProxy reports it {KubernetesHealth.Short(state)}" + (detail.Length > 0 ? $": {KubernetesHealth.Short(detail)}" : "")));
        }
        return results;
    }
}
