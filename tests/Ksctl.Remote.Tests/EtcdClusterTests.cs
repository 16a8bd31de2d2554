using System.Text;
using Ksctl.Core.Distributions.Etcd;
using Ksctl.Core.Remote;

namespace Ksctl.Remote.Tests;

/// <summary>
/// A real three-member etcd cluster over TLS on the test machines, from our certificates, our scripts and our unit file
/// (run by the systemctl shim), with Debian's etcd binaries as the staged artifact.
/// </summary>
[Collection(TestMachinesCollection.Name)]
public sealed class EtcdClusterTests(TestMachinesFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    private EventSink Sink { get; } = new();

    private static readonly string[] EtcdctlTls =
        ["--cacert=/etc/etcd/pki/ca.crt", "--cert=/etc/etcd/pki/etcd.crt", "--key=/etc/etcd/pki/etcd.key"];

    [Fact]
    public async Task Three_members_form_a_tls_cluster_with_client_certificate_auth()
    {
        Assert.True(File.Exists("/usr/bin/etcd") && File.Exists("/usr/bin/etcdctl"),
            "Debian's etcd is the test artifact: apt-get install -y etcd-server etcd-client");
        var factory = new SshRemoteShellFactory(new RemoteShellOptions
        {
            ConnectDeadline = TimeSpan.FromSeconds(15),
            ScriptBackoffInitial = TimeSpan.FromMilliseconds(200),
        }, Sink);
        var machines = fixture.Machines;
        var shells = new List<IRemoteShell>();
        try
        {
            foreach (var m in machines) shells.Add(await factory.ConnectAsync(m.ToRemote()));
            // A clean slate, whatever an earlier run left (the uninstall script is itself under test here).
            foreach (var s in shells) await s.RunAsync(new RemoteScript("etcd:uninstall", EtcdScripts.Uninstall()));
            var shim = await File.ReadAllBytesAsync(RepoPaths.TestMachinesFile("systemctl-shim.sh"));
            foreach (var s in shells) await s.UploadAsync(shim, "/usr/local/bin/systemctl", (UnixFileMode)0b111_101_101);

            var members = EtcdMember.FromPrivateIps(machines.Select(m => m.Address));
            var pki = EtcdCertificateAuthority.CreatePki("etcdtest", members.Select(m => m.PrivateIp));
            var installer = new EtcdInstaller(new EtcdArtifactSource { Version = "3.4.23", LocalFolder = "/usr/bin" });

            // Every member in parallel, as the plan does.
            var installs = await RemoteFanOut.ForEachAsync(Enumerable.Range(0, shells.Count).ToList(), i => shells[i].Machine,
                (i, ct) => installer.InstallMemberAsync(shells[i], members[i], members, pki, "ksctl-etcdtest", ct), maxParallelism: 3);
            var installed = installs.ThrowIfAnyFailed();
            Assert.All(installed, r => Assert.Contains("(re)started", r.StandardOutput));

            foreach (var s in shells) await EtcdInstaller.WaitHealthyAsync(s, TimeSpan.FromSeconds(60));
            var cluster = await EtcdInstaller.WaitHealthyAsync(shells[0], TimeSpan.FromSeconds(30), wholeCluster: true);
            foreach (var m in members) Assert.Contains($"{m.ClientUrl} is healthy", cluster.StandardOutput + cluster.StandardError);

            var list = await Run(shells[0], Etcdctl("https://127.0.0.1:2379", "member list"));
            foreach (var m in members) Assert.Contains($"{m.Name}, {m.PeerUrl}, {m.ClientUrl}", list.StandardOutput);

            // Written through member 0, read through member 2's private address: one replicated datastore.
            await Run(shells[0], Etcdctl("https://127.0.0.1:2379", "put /ksctl/probe hello-from-infra0"));
            var read = await Run(shells[1], Etcdctl(members[2].ClientUrl, "get /ksctl/probe --print-value-only"));
            Assert.Equal("hello-from-infra0", read.StandardOutput.Trim());

            // --client-cert-auth: without a client certificate the member refuses us.
            var anonymous = await Run(shells[1],
                $"if ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints={members[0].ClientUrl} --cacert=/etc/etcd/pki/ca.crt --dial-timeout=2s --command-timeout=3s get /ksctl/probe; then echo accepted; else echo refused; fi");
            Assert.Equal("refused", anonymous.StandardOutput.Trim().Split('\n')[^1]);

            // Files as the scripts left them: the key private, data folder private.
            var modes = await Run(shells[2], "stat -c '%a %n' /etc/etcd/pki/etcd.key /etc/etcd/pki/ca.crt /var/lib/etcd /usr/local/bin/etcd");
            Assert.Equal("600 /etc/etcd/pki/etcd.key\n644 /etc/etcd/pki/ca.crt\n700 /var/lib/etcd\n755 /usr/local/bin/etcd\n", modes.StandardOutput);

            // Idempotent: installing member 1 again changes nothing and keeps the running process.
            var pidBefore = (await Run(shells[1], "systemctl show -p MainPID etcd")).StandardOutput;
            var again = await installer.InstallMemberAsync(shells[1], members[1], members, pki, "ksctl-etcdtest");
            var pidAfter = (await Run(shells[1], "systemctl show -p MainPID etcd")).StandardOutput;
            Assert.Contains("already configured and running", again.StandardOutput);
            Assert.Equal(pidBefore, pidAfter);
        }
        finally
        {
            foreach (var e in Sink.Events) output.WriteLine($"{e.Timestamp:HH:mm:ss.fff} {e.Level} {e.Message}");
            foreach (var s in shells)
            {
                // Best effort: a cleanup failure must not hide the test's own failure (the fixture removes the machines anyway).
                await CleanUpAsync(s);
            }
        }
    }

    [Fact]
    public async Task A_member_installs_from_a_download_mirror_once()
    {
        // The release tarball layout (etcd-v<version>-linux-amd64/etcd, etcdctl), served from the test bridge's address.
        var tarball = BuildReleaseTarball("3.4.23");
        var bridge = fixture.Machines[0].Address[..fixture.Machines[0].Address.LastIndexOf('.')] + ".1";
        using var mirror = new TarballMirror(bridge, tarball);
        var factory = new SshRemoteShellFactory(new RemoteShellOptions { ScriptBackoffInitial = TimeSpan.FromMilliseconds(200) }, Sink);
        var shell = await factory.ConnectAsync(fixture.Machines[0].ToRemote());
        try
        {
            await shell.RunAsync(new RemoteScript("etcd:uninstall", EtcdScripts.Uninstall()));
            await shell.UploadAsync(await File.ReadAllBytesAsync(RepoPaths.TestMachinesFile("systemctl-shim.sh")), "/usr/local/bin/systemctl", (UnixFileMode)0b111_101_101);
            var member = EtcdMember.FromPrivateIps([fixture.Machines[0].Address]);
            var pki = EtcdCertificateAuthority.CreatePki("mirror", [member[0].PrivateIp]);
            var installer = new EtcdInstaller(new EtcdArtifactSource { Version = "3.4.23", DownloadBaseUrl = mirror.BaseUrl });

            await installer.InstallMemberAsync(shell, member[0], member, pki, "ksctl-mirror");
            await EtcdInstaller.WaitHealthyAsync(shell, TimeSpan.FromSeconds(60));
            var again = await installer.InstallMemberAsync(shell, member[0], member, pki, "ksctl-mirror");

            Assert.Equal(["/v3.4.23/etcd-v3.4.23-linux-amd64.tar.gz"], mirror.Requests);
            Assert.Contains("already configured and running", again.StandardOutput);
            var version = await Run(shell, "/usr/local/bin/etcd --version | head -n 1");
            Assert.Equal("etcd Version: 3.4.23\n", version.StandardOutput);
        }
        finally
        {
            foreach (var e in Sink.Events) output.WriteLine($"{e.Timestamp:HH:mm:ss.fff} {e.Level} {e.Message}");
            await CleanUpAsync(shell);
        }
    }

    private static byte[] BuildReleaseTarball(string version)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new System.Formats.Tar.TarWriter(gzip, System.Formats.Tar.TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var name in new[] { "etcd", "etcdctl" })
            {
                tar.WriteEntry($"/usr/bin/{name}", $"etcd-v{version}-linux-amd64/{name}");
            }
        }
        return buffer.ToArray();
    }

    /// <summary>A one-file HTTP mirror on the test bridge: answers every GET with the tarball and records the paths asked for.</summary>
    private sealed class TarballMirror : IDisposable
    {
        private readonly System.Net.HttpListener _listener = new();
        private readonly Task _serving;
        private readonly List<string> _requests = [];

        public TarballMirror(string address, byte[] tarball)
        {
            var port = FreePort(address);
            BaseUrl = $"http://{address}:{port}";
            _listener.Prefixes.Add(BaseUrl + "/");
            _listener.Start();
            _serving = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    System.Net.HttpListenerContext context;
                    try { context = await _listener.GetContextAsync(); }
                    catch (Exception) { return; }
                    lock (_requests) _requests.Add(context.Request.Url!.AbsolutePath);
                    context.Response.ContentType = "application/gzip";
                    context.Response.ContentLength64 = tarball.Length;
                    await context.Response.OutputStream.WriteAsync(tarball);
                    context.Response.Close();
                }
            });
        }

        public string BaseUrl { get; }
        public IReadOnlyList<string> Requests { get { lock (_requests) return _requests.ToList(); } }

        private static int FreePort(string address)
        {
            var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Parse(address), 0);
            probe.Start();
            var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            return port;
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
    }

    private static async Task CleanUpAsync(IRemoteShell shell)
    {
        try
        {
            await shell.RunAsync(new RemoteScript("etcd:uninstall", EtcdScripts.Uninstall() + "rm -f /usr/local/bin/systemctl\n"));
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"cleanup of {shell.Machine} failed: {ex.Message}");
        }
        finally
        {
            await shell.DisposeAsync();
        }
    }

    private static string Etcdctl(string endpoint, string command) =>
        $"ETCDCTL_API=3 /usr/local/bin/etcdctl --endpoints={endpoint} {string.Join(' ', EtcdctlTls)} --dial-timeout=3s --command-timeout=5s {command}";

    private static Task<RemoteCommandResult> Run(IRemoteShell shell, string content) =>
        shell.RunAsync(new RemoteScript("test", content, 0, TimeSpan.FromSeconds(30)));
}
