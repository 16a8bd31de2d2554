using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Storage;

namespace Ksctl.Core.Tests.Support;

/// <summary>A temp folder removed at dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir(string prefix = "ksctl-test")
    {
        Path = Directory.CreateTempSubdirectory(prefix + "-").FullName;
    }

    public string Path { get; }
    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>A synchronous event sink (Progress&lt;T&gt; would post to a thread pool and lose ordering).</summary>
public sealed class EventSink : IProgress<KsctlEvent>
{
    public ConcurrentQueue<KsctlEvent> Events { get; } = new();
    public void Report(KsctlEvent value) => Events.Enqueue(value);
}

/// <summary>
/// An in-memory store that counts writes and keeps a deserialised copy of the document after every write, so a
/// test can see exactly what each checkpoint persisted.
/// </summary>
public sealed class RecordingStore : IStateStore
{
    private readonly object _sync = new();
    private readonly List<ClusterState> _snapshots = new();
    private readonly Dictionary<ClusterId, byte[]> _documents = new();

    public string Description => "Recording (memory)";
    public bool KeepSnapshots { get; init; } = true;
    public int Writes { get { lock (_sync) return _writes; } }
    private int _writes;

    public IReadOnlyList<ClusterState> Snapshots { get { lock (_sync) return _snapshots.ToList(); } }

    public Task<ClusterState?> ReadAsync(ClusterId id, CancellationToken cancellationToken)
    {
        lock (_sync)
            return Task.FromResult(_documents.TryGetValue(id, out var b) ? StateSerializer.Deserialize(b, "memory") : null);
    }

    public Task WriteAsync(ClusterState state, CancellationToken cancellationToken)
    {
        var bytes = StateSerializer.Serialize(state);
        lock (_sync)
        {
            _writes++;
            _documents[state.Id] = bytes;
            if (KeepSnapshots) _snapshots.Add(StateSerializer.Deserialize(bytes, "memory"));
        }
        return Task.CompletedTask;
    }

    public Task DeleteAsync(ClusterId id, CancellationToken cancellationToken)
    {
        lock (_sync) _documents.Remove(id);
        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<ClusterState> ListAsync(ClusterQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        List<byte[]> docs;
        lock (_sync) docs = _documents.Where(p => query.Matches(p.Key)).Select(p => p.Value).ToList();
        foreach (var d in docs) yield return StateSerializer.Deserialize(d, "memory");
        await Task.CompletedTask;
    }

    public Task<IClusterLock> AcquireLockAsync(ClusterId id, string operation, bool breakStale, CancellationToken cancellationToken) =>
        throw new NotSupportedException();
}

public static class Samples
{
    public static ClusterId LocalId(string name = "demo") => new(CloudProvider.Local, ClusterType.Managed, name, "LOCAL");

    public static ClusterState State(ClusterId? id = null)
    {
        id ??= LocalId();
        return new ClusterState
        {
            Id = id,
            Spec = new ClusterSpec { Id = id, KubernetesVersion = "1.33.1", NodeCount = 2 },
            CreatedAt = new DateTimeOffset(2026, 11, 24, 6, 0, 0, TimeSpan.Zero),
            UpdatedAt = new DateTimeOffset(2026, 11, 24, 6, 0, 0, TimeSpan.Zero),
        };
    }

    /// <summary>Finds tests/tools/standins from the test output folder.</summary>
    public static string StandinsDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "tests", "tools", "standins");
            if (File.Exists(System.IO.Path.Combine(candidate, "kind"))) return candidate;
        }
        throw new InvalidOperationException("tests/tools/standins not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The same fake kind kubeconfig the stand-in writes, with k3s-style 'default' names.</summary>
    /// <summary>
    /// A kubeconfig as K3s writes it, with a real certificate and key: Ksctl reads the file again until both parse
    /// (K3s writes it in parts), so the placeholder data of <see cref="K3sKubeconfig"/> would never count as complete.
    /// </summary>
    public static readonly string K3sKubeconfigWithCertificates = MakeK3sKubeconfig();

    private static string MakeK3sKubeconfig()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=system:admin", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1));
        static string B64(string pem) => Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(pem));
        return K3sKubeconfig
            .Replace("Q0EgREFUQQ==", B64(cert.ExportCertificatePem()))
            .Replace("Q0VSVCBEQVRB", B64(cert.ExportCertificatePem()))
            .Replace("S0VZIERBVEE=", B64(key.ExportECPrivateKeyPem()));
    }

    public const string K3sKubeconfig = """
        apiVersion: v1
        clusters:
        - cluster:
            certificate-authority-data: Q0EgREFUQQ==
            server: https://127.0.0.1:6443
          name: default
        contexts:
        - context:
            cluster: default
            user: default
          name: default
        current-context: default
        kind: Config
        preferences: {}
        users:
        - name: default
          user:
            client-certificate-data: Q0VSVCBEQVRB
            client-key-data: S0VZIERBVEE=
        """;
}

/// <summary>Tests in this collection change process-wide state (PATH, KSCTL_HOME, KUBECONFIG); they never run in parallel.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection
{
    public const string Name = "Process environment";
}

/// <summary>Sets environment variables for the scope and restores them at dispose.</summary>
public sealed class EnvironmentScope : IDisposable
{
    private readonly Dictionary<string, string?> _saved = new();

    public EnvironmentScope Set(string name, string? value)
    {
        if (!_saved.ContainsKey(name)) _saved[name] = Environment.GetEnvironmentVariable(name);
        Environment.SetEnvironmentVariable(name, value);
        return this;
    }

    public void Dispose()
    {
        foreach (var (name, value) in _saved) Environment.SetEnvironmentVariable(name, value);
    }
}
