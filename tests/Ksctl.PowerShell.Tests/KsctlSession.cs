using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;
using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>Environment variables are process-wide and Ksctl reads them: every test that hosts the engine is in this one serial collection.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PowerShellCollection
{
    public const string Name = "PowerShell";
}

/// <summary>Where the built module, the host and the stand-ins are.</summary>
public static class Paths
{
    static Paths() => Environment.SetEnvironmentVariable("POWERSHELL_TELEMETRY_OPTOUT", "1");

    private static string? Metadata(string key) =>
        typeof(Paths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value;

    public static string RepoRoot { get; } = FindRepoRoot();

    public static string ModuleDir { get; } = Path.GetFullPath(Metadata("KsctlModuleOutputDir") is { Length: > 0 } d ? d : Path.Combine(RepoRoot, "out", "Ksctl"));

    public static string Manifest => Path.Combine(ModuleDir, "Ksctl.psd1");

    public static string DependencyDir => Path.Combine(ModuleDir, "Dependencies");

    public static string Standins => Path.Combine(RepoRoot, "tests", "tools", "standins");

    public static string HostDll => Path.Combine(RepoRoot, "src", "Ksctl.Host", "bin", Metadata("KsctlConfiguration") ?? "Debug", "net10.0", "ksctl-host.dll");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Ksctl.PowerShell.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No Ksctl.PowerShell.sln above {AppContext.BaseDirectory}.");
    }
}

/// <summary>What one script produced.</summary>
public sealed class RunResult
{
    public required Collection<PSObject> Output { get; init; }
    public required List<ErrorRecord> Errors { get; init; }
    public required List<ProgressRecord> Progress { get; init; }
    public required List<string> Verbose { get; init; }
    public List<string> Debug { get; init; } = [];
    public required List<string> Warnings { get; init; }
    public required string HostText { get; init; }

    public IEnumerable<T> Objects<T>() => Output.Select(o => o.BaseObject).OfType<T>();
    public dynamic Single() => Assert.Single(Output);
}

/// <summary>
/// One test's world: a temp KSCTL_HOME, KUBECONFIG and kind stand-in state, a runspace that imported the built
/// module folder, and a recording host. Restores the environment when disposed.
/// </summary>
public sealed class KsctlSession : IDisposable
{
    private static readonly string[] Variables = ["KSCTL_HOME", "PATH", "KUBECONFIG", "KIND_STANDIN_STATE", "KIND_STANDIN_LOG", "KIND_STANDIN_FAIL_CREATE", "DOCKER_STANDIN_DOWN",
        "KSCTL_STATE_STORE", "KSCTL_STATE_ACCOUNT_URI", "KSCTL_STATE_CONTAINER", "KSCTL_STATE_CONNECTION_STRING", "KSCTL_STATE_KEY", "KSCTL_STATE_KEY_FILE"];
    private readonly Dictionary<string, string?> _saved = new();
    private readonly Dictionary<string, string?> _savedHostCredentials;
    private readonly Runspace _runspace;

    public KsctlSession(bool standinsOnPath = true)
    {
        Environment.SetEnvironmentVariable("POWERSHELL_TELEMETRY_OPTOUT", "1");
        Root = Directory.CreateTempSubdirectory("ksctl-ps-").FullName;
        foreach (var v in Variables) _saved[v] = Environment.GetEnvironmentVariable(v);
        Home = Path.Combine(Root, "home");
        Kubeconfig = Path.Combine(Root, "kube", "config");
        KindLog = Path.Combine(Root, "kind.log");
        Environment.SetEnvironmentVariable("KSCTL_HOME", Home);
        Environment.SetEnvironmentVariable("KUBECONFIG", Kubeconfig);
        Environment.SetEnvironmentVariable("KIND_STANDIN_STATE", Path.Combine(Root, "kind"));
        Environment.SetEnvironmentVariable("KIND_STANDIN_LOG", KindLog);
        Environment.SetEnvironmentVariable("KIND_STANDIN_FAIL_CREATE", null);
        Environment.SetEnvironmentVariable("DOCKER_STANDIN_DOWN", null);
        // A developer's own state store settings must not leak into a test: every session starts on its file store.
        foreach (var v in Variables.Where(v => v.StartsWith("KSCTL_STATE_", StringComparison.Ordinal))) Environment.SetEnvironmentVariable(v, null);
        // Nor the host's cloud sign-in: CIVO_*/AZURE_*/AWS_*, az's login cache, IMDS endpoints (a test sets what it needs).
        _savedHostCredentials = Ksctl.Tests.Shared.HostCredentialIsolation.Clear(Path.Combine(Root, "no-host-credentials"));
        // Without the stand-ins, PATH keeps only system folders that have no kind (a developer may have the real one).
        var basePath = string.Join(Path.PathSeparator, (_saved["PATH"] ?? "").Split(Path.PathSeparator)
            .Where(d => d.Length > 0 && !File.Exists(Path.Combine(d, "kind"))));
        Environment.SetEnvironmentVariable("PATH", standinsOnPath ? Paths.Standins + Path.PathSeparator + basePath : basePath);

        Host = new RecordingHost();
        var iss = InitialSessionState.CreateDefault2();
        iss.ImportPSModule(Paths.Manifest);
        iss.ThrowOnRunspaceOpenError = true;
        _runspace = RunspaceFactory.CreateRunspace(Host, iss);
        _runspace.Open();
    }

    public string Root { get; }
    public string Home { get; }
    public string StatePath => Path.Combine(Home, "state");
    public string Kubeconfig { get; }
    public string KindLog { get; }
    public RecordingHost Host { get; }
    public Runspace Runspace => _runspace;

    /// <summary>Files under the state folder (empty when nothing was written).</summary>
    public string[] StateFiles() => Directory.Exists(StatePath) ? Directory.GetFiles(StatePath, "*", SearchOption.AllDirectories) : [];

    public RunResult Run(string script)
    {
        Host.Clear();
        using var ps = System.Management.Automation.PowerShell.Create(_runspace);
        ps.AddScript(script);
        var output = ps.Invoke();
        return new RunResult
        {
            Output = output,
            Errors = ps.Streams.Error.ToList(),
            Progress = ps.Streams.Progress.ToList(),
            Verbose = ps.Streams.Verbose.Select(v => v.Message).ToList(),
            Debug = ps.Streams.Debug.Select(v => v.Message).ToList(),
            Warnings = ps.Streams.Warning.Select(v => v.Message).ToList(),
            HostText = Host.Text,
        };
    }

    /// <summary>Runs and fails the test on any error record.</summary>
    public RunResult RunClean(string script)
    {
        var result = Run(script);
        Assert.True(result.Errors.Count == 0, "Unexpected errors: " + string.Join(Environment.NewLine, result.Errors.Select(e => $"{e.FullyQualifiedErrorId}: {e}")));
        return result;
    }

    public void Dispose()
    {
        _runspace.Dispose();
        foreach (var (k, v) in _saved) Environment.SetEnvironmentVariable(k, v);
        Ksctl.Tests.Shared.HostCredentialIsolation.Restore(_savedHostCredentials);
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
