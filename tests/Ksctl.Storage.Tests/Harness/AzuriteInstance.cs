using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Ksctl.Storage.Tests.Harness;

/// <summary>
/// One Azurite blob service (the official Azure Storage emulator) from tests/tools/azurite, on 127.0.0.1 and a port
/// the kernel gives it (--blobPort 0: bound, not probed, so runs at once never race for one); a restart binds the same
/// port again. Installs it with npm when node_modules is absent (a fresh clone). Anything missing fails the test with the
/// reason: these tests never pass without a real emulator.
/// </summary>
public sealed class AzuriteInstance : IDisposable
{
    /// <summary>The well-known development account every Azurite has (public, documented, not a secret).</summary>
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private readonly string? _location;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private AzuriteInstance(string? location) => _location = location;

    /// <summary>The port Azurite reported listening on (0 until it has started once).</summary>
    public int Port { get; private set; }
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{Port}/{AccountName};";
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts Azurite in memory, or persisting to <paramref name="location"/> (so data survives a restart).</summary>
    public static AzuriteInstance Start(string? location = null)
    {
        var instance = new AzuriteInstance(location);
        instance.StartProcess();
        return instance;
    }

    public static string HarnessDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "tools", "azurite");
            if (File.Exists(Path.Combine(candidate, "package.json"))) return candidate;
        }
        throw new InvalidOperationException($"tests/tools/azurite/package.json not found above {AppContext.BaseDirectory}.");
    }

    private static string Executable(string harness) =>
        Path.Combine(harness, "node_modules", ".bin", OperatingSystem.IsWindows() ? "azurite-blob.cmd" : "azurite-blob");

    /// <summary>npm ci (or npm install) in tests/tools/azurite unless Azurite is already there.</summary>
    public static string EnsureInstalled()
    {
        var harness = HarnessDirectory();
        var exe = Executable(harness);
        InstallGate.Wait();
        try
        {
            if (File.Exists(exe)) return exe;
            // Other test processes on this host (a second checkout, another suite) may install at the same time.
            using var hostLock = HostWideLock(Path.Combine(harness, ".npm-install.lock"), TimeSpan.FromMinutes(10));
            if (File.Exists(exe)) return exe;
            RequireTool("node");
            var npm = RequireTool(OperatingSystem.IsWindows() ? "npm.cmd" : "npm");
            var verb = File.Exists(Path.Combine(harness, "package-lock.json")) ? "ci" : "install";
            var (code, output) = Run(npm, $"{verb} --no-audit --no-fund", harness, TimeSpan.FromMinutes(8));
            if (code != 0 || !File.Exists(exe))
                throw new InvalidOperationException($"'npm {verb}' in {harness} failed (exit {code}), so Azurite is not available:\n{output}");
            return exe;
        }
        finally { InstallGate.Release(); }
    }

    /// <summary>An exclusive open of a lock file: the kernel releases it when this process ends, however it ends.</summary>
    private static FileStream HostWideLock(string path, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(delay);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
            }
        }
    }

    private void StartProcess()
    {
        var exe = EnsureInstalled();
        // Not --silent: the "successfully listens on" line is how we learn the port the kernel gave it.
        var args = new List<string> { "--blobHost", "127.0.0.1", "--blobPort", Port.ToString(), "--skipApiVersionCheck", "--disableTelemetry" };
        if (_location is null) args.Add("--inMemoryPersistence");
        else { args.Add("--location"); args.Add(_location); }
        var info = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(exe)))!,
        };
        foreach (var a in args) info.ArgumentList.Add(a);
        lock (_output) _output.Clear();
        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_output) _output.AppendLine(e.Data);
            if (ListeningLine.Match(e.Data) is { Success: true } m) listening.TrySetResult(int.Parse(m.Groups[1].Value));
        };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"Azurite exited with code {process.ExitCode} before it listened:\n{Output}"));
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        try { process.Start(); }
        catch (Exception ex) { throw new InvalidOperationException($"Could not start Azurite ({exe}): {ex.Message}", ex); }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        if (!listening.Task.Wait(TimeSpan.FromSeconds(60)))
        {
            Kill();
            throw new InvalidOperationException($"Azurite did not report listening within 60 s:\n{Output}");
        }
        try { Port = listening.Task.Result; }
        catch (AggregateException ex) { throw ex.InnerException!; }
    }

    private static readonly System.Text.RegularExpressions.Regex ListeningLine =
        new(@"successfully listens on http://127\.0\.0\.1:(\d+)", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    public string Output { get { lock (_output) return _output.ToString(); } }

    /// <summary>Stops it gracefully (SIGTERM: Azurite saves its --location database), then kills it if it lingers.</summary>
    public void Stop()
    {
        if (_process is not { HasExited: false } process) return;
        if (!OperatingSystem.IsWindows()) _ = SysKill(process.Id, 15);
        if (OperatingSystem.IsWindows() || !process.WaitForExit(10_000)) Kill();
        process.WaitForExit();
        // The port must be free again before a restart binds it.
        // A busy host may take a while; one that never frees it fails here, not later as a confusing restart failure.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (PortAnswers(Port))
        {
            if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"Azurite exited but port {Port} still answers after 60 s: another process holds it.");
            Thread.Sleep(50);
        }
    }

    /// <summary>Freezes it (SIGSTOP): connections are accepted by the kernel but never answered, like a black-holed network.</summary>
    public void Pause() => Signal(19);

    /// <summary>Lets a paused Azurite run again (SIGCONT).</summary>
    public void Resume() => Signal(18);

    private void Signal(int signal)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("Pause/Resume need POSIX signals.");
        if (_process is { HasExited: false } process && SysKill(process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Starts it again on the same port (and the same --location, if any).</summary>
    public void Restart()
    {
        Stop();
        StartProcess();
    }

    private void Kill()
    {
        if (!OperatingSystem.IsWindows() && _process is { HasExited: false } p) _ = SysKill(p.Id, 18); // a paused process dies too
        try { _process?.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    }

    public void Dispose()
    {
        Kill();
        _process?.WaitForExit(5_000);
        _process?.Dispose();
    }

    private static bool PortAnswers(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException) { return false; }
    }

    private static string RequireTool(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path)) return path;
        }
        throw new InvalidOperationException(
            $"'{name}' is not on PATH, so Azurite (npm package 'azurite', pinned in tests/tools/azurite/package.json) cannot be installed or run. " +
            "Install Node.js (20 or later) and npm; .ci/run must do this.");
    }

    private static (int Code, string Output) Run(string file, string arguments, string workingDirectory, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            return (-1, $"timed out after {timeout.TotalMinutes:0} min");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);
}

/// <summary>One in-memory Azurite shared by the tests of the "azurite" collection (each test uses its own container).</summary>
public sealed class AzuriteFixture : IDisposable
{
    public AzuriteFixture() => Azurite = AzuriteInstance.Start();
    public AzuriteInstance Azurite { get; }
    public void Dispose() => Azurite.Dispose();
}

[Xunit.CollectionDefinition("azurite")]
public sealed class AzuriteCollection : Xunit.ICollectionFixture<AzuriteFixture>;
