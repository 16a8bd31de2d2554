using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Ksctl.Core.Distributions;
using Ksctl.Core.Distributions.Etcd;
using Ksctl.Core.Distributions.Systemd;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Certificates;

/// <summary>
/// The certificate renewal plan, rolling and without downtime: new member and client certificates from the cluster's
/// etcd CA (kept in the state; the CA itself is not renewed), then each etcd member in turn takes its new certificate
/// and restarts, and the next waits until every member is healthy again; then each control plane in turn takes the new
/// client certificate and restarts its API server (Kubeadm: kubeadm certs renew all and a restart of the control-plane
/// Pods), so the load balancer always has others to send to. The expiry dates are recorded last. With a CA rotation
/// (<see cref="EtcdCaRotation"/>) the leaves come from a new CA that every machine was made to trust first, and the old
/// CA is dropped from every machine after.
/// </summary>
internal static class CertificateRenewalSteps
{
    public const string IssueStep = "certs:issue";
    public const string RecordStep = "certs:record";
    private static readonly UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static IReadOnlyList<PlanStep> Create(ClusterState state, MachineAccess access, TimeProvider time, bool rotateCa = false)
    {
        var members = state.Nodes.Where(n => n.Role == NodeRole.Datastore && n.Key is not null).OrderBy(n => n.Index).ToList();
        var planes = state.Nodes.Where(n => n.Role == NodeRole.ControlPlane && n.Key is not null).OrderBy(n => n.Index).ToList();
        var kubeadm = state.Spec.Distribution == DistributionKind.Kubeadm;
        var addresses = members.Select(m => UnitValue.Address(m.PrivateIP, "Datastore.PrivateIP")).ToList();
        var endpoints = addresses.Select(a => $"https://{a}:2379").ToList();
        var steps = new List<PlanStep>();
        string? previous = null;
        if (rotateCa)
        {
            steps.Add(new PlanStep(EtcdCaRotation.IssueStep, (ctx, _) => { EtcdCaRotation.Issue(ctx, time.GetUtcNow()); return Task.CompletedTask; })
            {
                Description = "issue a new etcd CA (2 years), kept beside the current one until every machine trusts it",
                Resources = ["etcd CA (2 years)"],
            });
            previous = EtcdCaRotation.IssueStep;
            previous = AddTrustSteps(steps, previous, EtcdCaRotation.TrustPrefix, "trust both the current and the new etcd CA", EtcdCaRotation.Bundle, members, planes, access, endpoints, kubeadm);
        }
        steps.Add(new PlanStep(IssueStep, (ctx, _) => { Issue(ctx, addresses, time.GetUtcNow(), rotateCa); return Task.CompletedTask; })
        {
            DependsOn = previous is null ? [] : [previous],
            Description = $"issue new etcd member and client certificates from the {(rotateCa ? "new" : "cluster's")} etcd CA (1 year; SANs: 127.0.0.1, localhost, every member's private address)",
            Resources = ["etcd member certificate (1 year)", "etcd client certificate (1 year)"],
        });
        previous = IssueStep;
        foreach (var m in members)
        {
            var name = $"certs:etcd:{m.Key}";
            steps.Add(new PlanStep(name, (ctx, ct) => RenewMemberAsync(ctx, access, m.Key!, endpoints, ct))
            {
                DependsOn = [previous],
                Description = $"put the new member certificate on {m.Key}, restart etcd and wait until every member is healthy",
            });
            previous = name;
        }
        foreach (var p in planes)
        {
            var name = $"certs:control-plane:{p.Key}";
            steps.Add(new PlanStep(name, (ctx, ct) => RenewControlPlaneAsync(ctx, access, p.Key!, kubeadm, ct))
            {
                DependsOn = [previous],
                Description = kubeadm
                    ? $"put the new etcd client certificate on {p.Key}, run kubeadm certs renew all and restart the control-plane Pods"
                    : $"put the new etcd client certificate on {p.Key} and restart the k3s server",
            });
            previous = name;
        }
        if (rotateCa)
            previous = AddTrustSteps(steps, previous, EtcdCaRotation.DropPrefix, "trust only the new etcd CA (the old one is dropped)", s => s.Secrets[EtcdCaRotation.NextCertificate], members, planes, access, endpoints, kubeadm);
        steps.Add(new PlanStep(RecordStep, (ctx, _) => { Record(ctx, rotateCa); return Task.CompletedTask; })
        {
            DependsOn = [previous],
            Description = rotateCa ? "make the new CA the cluster's and record the new expiry dates" : "record the new expiry dates",
        });
        return steps;
    }

    /// <summary>One step per member, then one per control plane, each putting <paramref name="trust"/> in place and restarting; returns the last step's name.</summary>
    private static string AddTrustSteps(List<PlanStep> steps, string previous, string prefix, string what, Func<ClusterState, string> trust,
        IReadOnlyList<NodeState> members, IReadOnlyList<NodeState> planes, MachineAccess access, IReadOnlyList<string> endpoints, bool kubeadm)
    {
        foreach (var m in members)
        {
            var name = $"{prefix}etcd:{m.Key}";
            steps.Add(new PlanStep(name, async (ctx, ct) =>
            {
                var shell = await access.ShellAsync(ctx, m.Key!, ct).ConfigureAwait(false);
                await shell.UploadAsync(Encoding.UTF8.GetBytes(ctx.Session.Read(trust)), $"{CertificateScripts.Pki}/ca.crt", Private, ct).ConfigureAwait(false);
                await RestartMemberAsync(ctx, shell, m.Key!, endpoints, ct).ConfigureAwait(false);
            })
            {
                DependsOn = [previous],
                Description = $"{m.Key}: {what}, restart etcd and wait until every member is healthy",
            });
            previous = name;
        }
        foreach (var p in planes)
        {
            var name = $"{prefix}control-plane:{p.Key}";
            steps.Add(new PlanStep(name, async (ctx, ct) =>
            {
                var shell = await access.ShellAsync(ctx, p.Key!, ct).ConfigureAwait(false);
                await shell.UploadAsync(Encoding.UTF8.GetBytes(ctx.Session.Read(trust)), $"{CertificateScripts.ClientFolder}/ca.crt", Private, ct).ConfigureAwait(false);
                var script = kubeadm ? CertificateScripts.RenewKubeadm(renew: false) : CertificateScripts.RestartK3s();
                await shell.RunAsync(new RemoteScript($"{(kubeadm ? "kubeadm" : "k3s")}:restart-{p.Key}", script, retries: 1), ct).ConfigureAwait(false);
            })
            {
                DependsOn = [previous],
                Description = $"{p.Key}: {what} for the datastore and restart the API server",
            });
            previous = name;
        }
        return previous;
    }

    private static void Issue(StepContext ctx, IReadOnlyList<string> addresses, DateTimeOffset now, bool rotateCa)
    {
        var ca = ctx.Session.Read(s => EtcdCaRotation.Issuer(s, rotateCa));
        var server = EtcdCertificateAuthority.CreateServer(ca, addresses, now);
        var client = EtcdCertificateAuthority.CreateClient(ca, now);
        ctx.Mutate(s =>
        {
            s.Secrets[EtcdDatastore.ServerCertificate] = server.Certificate;
            s.Secrets[EtcdDatastore.ServerKey] = server.PrivateKey;
            s.Secrets[DatastoreSecrets.ClientCertificate] = client.Certificate;
            s.Secrets[DatastoreSecrets.ClientKey] = client.PrivateKey;
        });
    }

    private static async Task RenewMemberAsync(StepContext ctx, MachineAccess access, string key, IReadOnlyList<string> endpoints, CancellationToken ct)
    {
        var (cert, privateKey) = ctx.Session.Read(s => (s.Secrets[EtcdDatastore.ServerCertificate], s.Secrets[EtcdDatastore.ServerKey]));
        var shell = await access.ShellAsync(ctx, key, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(cert), $"{CertificateScripts.Pki}/server.crt", Private, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(privateKey), $"{CertificateScripts.Pki}/server.key", Private, ct).ConfigureAwait(false);
        await RestartMemberAsync(ctx, shell, key, endpoints, ct).ConfigureAwait(false);
    }

    /// <summary>Restarts the member with the files in place, waits for every member's health, and checks it serves the state's member certificate.</summary>
    private static async Task RestartMemberAsync(StepContext ctx, IRemoteShell shell, string key, IReadOnlyList<string> endpoints, CancellationToken ct)
    {
        var cert = ctx.Session.Read(s => s.Secrets[EtcdDatastore.ServerCertificate]);
        var result = await shell.RunAsync(new RemoteScript($"etcd:renew-{key}", CertificateScripts.RestartMember(endpoints), retries: 1), ct).ConfigureAwait(false);
        // The member's word is checked, not trusted: it must serve exactly the certificate issued here.
        using var issued = X509Certificate2.CreateFromPem(cert);
        var expected = Convert.ToHexString(issued.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256));
        var line = result.StandardOutput.Split('\n').FirstOrDefault(l => l.Contains("Fingerprint=", StringComparison.OrdinalIgnoreCase)) ?? "";
        var served = line[(line.IndexOf('=') + 1)..].Replace(":", "", StringComparison.Ordinal).Trim();
        if (!string.Equals(served, expected, StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"etcd on {key} serves another certificate than the one issued (fingerprint '{ClusterId.Printable(served)}', expected {expected}).");
    }

    private static async Task RenewControlPlaneAsync(StepContext ctx, MachineAccess access, string key, bool kubeadm, CancellationToken ct)
    {
        var (cert, privateKey) = ctx.Session.Read(s => (s.Secrets[DatastoreSecrets.ClientCertificate], s.Secrets[DatastoreSecrets.ClientKey]));
        var shell = await access.ShellAsync(ctx, key, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(cert), $"{CertificateScripts.ClientFolder}/client.crt", Private, ct).ConfigureAwait(false);
        await shell.UploadAsync(Encoding.UTF8.GetBytes(privateKey), $"{CertificateScripts.ClientFolder}/client.key", Private, ct).ConfigureAwait(false);
        if (!kubeadm)
        {
            await shell.RunAsync(new RemoteScript($"k3s:restart-{key}", CertificateScripts.RestartK3s(), retries: 1), ct).ConfigureAwait(false);
            return;
        }
        var result = await shell.RunAsync(new RemoteScript($"kubeadm:certs-renew-{key}", CertificateScripts.RenewKubeadm(), retries: 1), ct).ConfigureAwait(false);
        var notAfter = ParseEndDate(result.StandardOutput)
            ?? throw new InvalidOperationException($"kubeadm certs renew on {key} left no readable /etc/kubernetes/pki/apiserver.crt expiry.");
        ctx.Mutate(s => s.Resources[KubeadmPending + key] = notAfter.ToString("O", CultureInfo.InvariantCulture));
    }

    /// <summary>Each control plane's renewed expiry until the record step keeps the earliest.</summary>
    private const string KubeadmPending = "certs:kubeadm-not-after:";

    /// <summary>openssl x509 -enddate: "notAfter=Nov 30 19:00:00 2027 GMT", read strictly (a date within 20 years, else null).</summary>
    internal static DateTimeOffset? ParseEndDate(string output)
    {
        var line = output.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("notAfter=", StringComparison.Ordinal));
        if (line is null) return null;
        var text = System.Text.RegularExpressions.Regex.Replace(line["notAfter=".Length..], "\\s+", " ");
        if (!text.EndsWith(" GMT", StringComparison.Ordinal)) return null;
        return DateTimeOffset.TryParseExact(text[..^4], ["MMM d HH:mm:ss yyyy", "MMM dd HH:mm:ss yyyy"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            && at.Year < DateTime.UtcNow.Year + 20 ? at.ToUniversalTime() : null;
    }

    private static void Record(StepContext ctx, bool rotateCa) => ctx.Mutate(s =>
    {
        if (rotateCa && s.Secrets.ContainsKey(EtcdCaRotation.NextCertificate)) EtcdCaRotation.Complete(s);
        var ca = new PemPair(s.Secrets[DatastoreSecrets.CaCertificate], s.Secrets[DatastoreSecrets.CaKey]);
        var server = new PemPair(s.Secrets[EtcdDatastore.ServerCertificate], s.Secrets[EtcdDatastore.ServerKey]);
        var client = new PemPair(s.Secrets[DatastoreSecrets.ClientCertificate], s.Secrets[DatastoreSecrets.ClientKey]);
        EtcdCertificateExpiry.Record(s, ca, server, client);
        var pending = s.Resources.Keys.Where(k => k.StartsWith(KubeadmPending, StringComparison.Ordinal)).ToList();
        var renewed = pending.Select(k => DateTimeOffset.TryParseExact(s.Resources[k], "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) ? at : (DateTimeOffset?)null)
            .Where(at => at is not null).Select(at => at!.Value).ToList();
        if (renewed.Count > 0) EtcdCertificateExpiry.RecordKind(s, EtcdCertificateExpiry.Kubeadm, renewed.Min());
        foreach (var k in pending) s.Resources.Remove(k);
    });
}
