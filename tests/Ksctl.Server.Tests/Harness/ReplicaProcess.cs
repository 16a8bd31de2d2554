using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Ksctl.Server.Tests.Harness;

/// <summary>
/// One server replica as its own process (the built ksctl-server.dll), with its own environment; its listening address is
/// read from what it prints. Kill() ends it and its children at once (SIGKILL: no graceful release of leases).
/// </summary>
public sealed partial class ReplicaProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    [GeneratedRegex(@"Ksctl server listening on (https://\S+?)(,|$)")]
    private static partial Regex ListeningLine();

    public ReplicaProcess(string name, IDictionary<string, string?> environment, params string[] args)
    {
        Name = name;
        var dll = Path.Combine(AppContext.BaseDirectory, "ksctl-server.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (k, v) in environment)
        {
            if (v is null) start.Environment.Remove(k);
            else start.Environment[k] = v;
        }
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Exited += (_, _) => _listening.TrySetException(new InvalidOperationException($"Replica {Name} exited before listening:\n{Output}"));
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }
    public string Output { get { lock (_output) return _output.ToString(); } }
    public bool HasExited => _process.HasExited;

    public Task<Uri> ListeningAsync() => _listening.Task.WaitAsync(TimeSpan.FromMinutes(2));

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
        var match = ListeningLine().Match(line);
        if (match.Success) _listening.TrySetResult(new Uri(match.Groups[1].Value.Replace("0.0.0.0", "127.0.0.1")));
    }

    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
