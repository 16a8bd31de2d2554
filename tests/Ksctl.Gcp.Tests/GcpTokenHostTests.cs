using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;
using Ksctl.Core.Clusters;
using Ksctl.Core.Model;
using YamlDotNet.RepresentationModel;

namespace Ksctl.Gcp.Tests;

/// <summary>
/// 'ksctl gcp-token' end to end: a GKE cluster is created against the emulator where gke-gcloud-auth-plugin is not on
/// PATH, and its kubeconfig's exec entry is run the way kubectl runs a client-go credential plugin
/// (kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins: the command looked up
/// on PATH, its args and env, KUBERNETES_EXEC_INFO holding an ExecCredential with spec.interactive false; stdout must be
/// an ExecCredential of the exec entry's apiVersion with status.token, and an optional RFC 3339 expirationTimestamp).
/// 'ksctl' is the built host (src/Ksctl.Host, the .NET tool's ksctl-host.dll) in a process of its own; it signs in
/// through Application Default Credentials at the emulator's metadata server (GCE_METADATA_HOST), as on a Compute
/// Engine VM or in Cloud Shell, and the token it prints is one Compute accepts.
/// </summary>
[Collection(GcpEnvironmentCollection.Name)]
public sealed class GcpTokenHostTests : IAsyncLifetime
{
    private GcpTestBed _bed = null!;

    public async Task InitializeAsync() => _bed = await GcpTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    private static string HostDll => typeof(GcpTokenHostTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "KsctlHostDll").Value!;

    [Fact]
    public async Task The_GKE_kubeconfigs_exec_entry_run_as_kubectl_runs_it_prints_an_ExecCredential_with_a_token_Compute_accepts()
    {
        Assert.True(File.Exists(HostDll), $"ksctl-host not built at {HostDll}");
        var spec = new ClusterSpec { Id = new ClusterId(CloudProvider.Gcp, ClusterType.Managed, "tok", "us-central1-a") };
        using var manager = _bed.NewManager();
        // Where gke-gcloud-auth-plugin is not on PATH (this host may have one in /usr/bin).
        var path = Environment.GetEnvironmentVariable("PATH");
        Environment.SetEnvironmentVariable("PATH", Directory.CreateDirectory(Path.Combine(_bed.Home, "no-plugin")).FullName);
        ClusterState state;
        try { state = await manager.CreateAsync(spec, GcpTestBed.WithKey(_bed.KeyFile), CancellationToken.None); }
        finally { Environment.SetEnvironmentVariable("PATH", path); }
        var (apiVersion, command, args) = ExecEntry(state.Secrets[ClusterState.KubeconfigSecret]);
        Assert.Equal(("client.authentication.k8s.io/v1beta1", "ksctl"), (apiVersion, command));
        Assert.Equal(["gcp-token"], args);

        // 'ksctl' on PATH is the built host, as 'dotnet tool install --global ksctl' puts it there.
        var bin = Directory.CreateDirectory(Path.Combine(_bed.Home, "bin")).FullName;
        var shim = Path.Combine(bin, "ksctl");
        var dotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
        File.WriteAllText(shim, $"#!/bin/sh\nexec '{dotnet}' '{HostDll}' \"$@\"\n");
        File.SetUnixFileMode(shim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _bed.Gcp.MetadataAccount = GcpEmulator.NewAccount("98765-compute", GcpEmulator.Project) with { Email = "98765-compute@developer.gserviceaccount.com" };

        var before = DateTimeOffset.UtcNow;
        var (exit, stdout, stderr) = RunAsKubectl(command, args, apiVersion, bin, new()
        {
            ["KSCTL_HOME"] = Path.Combine(_bed.Home, "empty-home"),
            ["GCE_METADATA_HOST"] = _bed.Gcp.MetadataHost,
            ["CLOUDSDK_CONFIG"] = Path.Combine(_bed.Home, "no-gcloud"),
        });

        Assert.True(exit == 0, $"exit {exit}: {stderr}");
        var credential = JsonNode.Parse(stdout)!;
        Assert.Equal(("ExecCredential", apiVersion), (credential["kind"]!.GetValue<string>(), credential["apiVersion"]!.GetValue<string>()));
        var token = credential["status"]!["token"]!.GetValue<string>();
        Assert.Equal("metadata", _bed.Gcp.Grants.Last());
        var expires = DateTimeOffset.Parse(credential["status"]!["expirationTimestamp"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires, before.AddMinutes(50), DateTimeOffset.UtcNow.AddMinutes(61));
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_bed.Gcp.ComputeUrl, $"projects/{GcpEmulator.Project}"));
        request.Headers.Authorization = new("Bearer", token);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);

        // Without any credential the plugin fails with a message on stderr and nothing on stdout (kubectl shows stderr).
        var (failed, nothing, why) = RunAsKubectl(command, args, apiVersion, bin, new()
        {
            ["KSCTL_HOME"] = Path.Combine(_bed.Home, "empty-home"),
            ["GCE_METADATA_HOST"] = "127.0.0.1:1",
            ["CLOUDSDK_CONFIG"] = Path.Combine(_bed.Home, "no-gcloud"),
        });
        Assert.NotEqual(0, failed);
        Assert.DoesNotContain("ExecCredential", nothing);
        Assert.Contains("KsctlAuthenticationFailed", why + nothing);
    }

    /// <summary>users[0].user.exec of a kubeconfig: apiVersion, command, args.</summary>
    private static (string ApiVersion, string Command, string[] Args) ExecEntry(string kubeconfig)
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(kubeconfig));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var exec = (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)((YamlSequenceNode)root["users"])[0])["user"])["exec"];
        string Scalar(string key) => ((YamlScalarNode)exec[key]).Value!;
        var args = exec.Children.TryGetValue("args", out var a) ? ((YamlSequenceNode)a).Select(n => ((YamlScalarNode)n).Value!).ToArray() : [];
        Assert.False(exec.Children.ContainsKey("env"));
        return (Scalar("apiVersion"), Scalar("command"), args);
    }

    /// <summary>Runs an exec entry as client-go does: PATH lookup of the command, KUBERNETES_EXEC_INFO, stdin not a terminal.</summary>
    private static (int Exit, string Stdout, string Stderr) RunAsKubectl(string command, string[] args, string apiVersion, string bin, Dictionary<string, string> env)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("GOOGLE_", StringComparison.Ordinal) || k.StartsWith("CLOUDSDK_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(name);
        start.Environment["PATH"] = bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
        start.Environment["KUBERNETES_EXEC_INFO"] = new JsonObject { ["kind"] = "ExecCredential", ["apiVersion"] = apiVersion, ["spec"] = new JsonObject { ["interactive"] = false } }.ToJsonString();
        foreach (var (k, v) in env) start.Environment[k] = v;
        // Process resolves a bare command name on the PATH of this process: give it the shim's full path as client-go's exec.LookPath would.
        start.FileName = Path.Combine(bin, command);
        using var p = Process.Start(start)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(120_000), "the credential plugin did not finish within 120 s");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
