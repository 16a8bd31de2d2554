using System.Diagnostics;
using System.Text.Json;

namespace Ksctl.Benchmarks;

/// <summary>
/// Import-Module of the built module folder (out/Ksctl/Ksctl.psd1) against a trivial binary module, each import in a fresh
/// process (ImportProbe: System.Management.Automation 7.6.9, a runspace from InitialSessionState.CreateDefault2()).
/// </summary>
public static class ModuleBenchmarks
{
    private const int Runs = 10;
    private static readonly TimeSpan Target = TimeSpan.FromMilliseconds(150);
    private static string WorkDir => Path.Combine(Path.GetTempPath(), "ksctl-bench");

    private sealed record Probe(double RunspaceMs, double ImportMs, string[] ModuleAssemblies, string[] DependencyAssemblies, string[] NewAssemblies, int Commands);

    public static BenchmarkResult Import()
    {
        var root = TestMachines.RepoRoot;
        var bench = Path.Combine(root, "tests", "Ksctl.Benchmarks");
        // The module as users get it: Release layout in out/Ksctl (incremental when already built).
        Build(Path.Combine(root, "src", "Ksctl.PowerShell"), null);
        var probeDir = Path.Combine(WorkDir, "probe");
        var trivialDir = Path.Combine(WorkDir, "trivial");
        Build(Path.Combine(bench, "ImportProbe"), probeDir);
        Build(Path.Combine(bench, "TrivialModule"), trivialDir);
        File.WriteAllText(Path.Combine(trivialDir, "Trivial.psd1"),
            "@{ RootModule = 'Trivial.dll'; ModuleVersion = '1.0.0'; GUID = '3d1c2a4e-7b8f-4c1d-9e2a-5f6b7c8d9e0f'; " +
            "CmdletsToExport = @('Get-Trivial'); FunctionsToExport = @(); AliasesToExport = @(); VariablesToExport = @() }\n");

        var ksctl = Path.Combine(root, "out", "Ksctl", "Ksctl.psd1");
        var trivial = Path.Combine(trivialDir, "Trivial.psd1");
        var probe = Path.Combine(probeDir, "ImportProbe.dll");
        RunProbe(probe, trivial); // warm the disk cache for both, untimed
        RunProbe(probe, ksctl);
        var k = new List<(Probe P, double ProcessMs)>();
        var t = new List<(Probe P, double ProcessMs)>();
        for (var i = 0; i < Runs; i++) // interleaved so that a load change on the machine hits both alike
        {
            t.Add(RunProbe(probe, trivial));
            k.Add(RunProbe(probe, ksctl));
        }

        var kImport = Median(k.Select(x => x.P.ImportMs));
        var tImport = Median(t.Select(x => x.P.ImportMs));
        var delta = kImport - tImport;
        var deps = k.SelectMany(x => x.P.DependencyAssemblies).Distinct().Order().ToList();
        var thirdParty = deps.Where(a => !a.StartsWith("Ksctl.", StringComparison.Ordinal)).ToList();
        var extraNew = k[0].P.NewAssemblies.Except(t[0].P.NewAssemblies).Where(a => a != "Trivial").Order().ToList();
        var sorted = k.Select(x => x.P.ImportMs).Order().ToList();

        var details = string.Join('\n',
            "| Module (fresh process each, median of 10) | Import-Module | Runspace open | Process total | Commands | From Dependencies/ |",
            "|---|---:|---:|---:|---:|---|",
            $"| out/Ksctl/Ksctl.psd1 | {kImport:0} ms | {Median(k.Select(x => x.P.RunspaceMs)):0} ms | {Median(k.Select(x => x.ProcessMs)):0} ms | {k[0].P.Commands} | {(deps.Count == 0 ? "none" : string.Join(", ", deps))} |",
            $"| trivial binary module (1 cmdlet) | {tImport:0} ms | {Median(t.Select(x => x.P.RunspaceMs)):0} ms | {Median(t.Select(x => x.ProcessMs)):0} ms | {t[0].P.Commands} | – |",
            $"| **difference** | **{delta:0} ms** (target ≤ {Target.TotalMilliseconds:0} ms) | | {Median(k.Select(x => x.ProcessMs)) - Median(t.Select(x => x.ProcessMs)):0} ms | | third-party at import: {(thirdParty.Count == 0 ? "none (target: none)" : string.Join(", ", thirdParty))} |");

        return new BenchmarkResult
        {
            Median = TimeSpan.FromMilliseconds(kImport), Min = TimeSpan.FromMilliseconds(sorted[0]), Max = TimeSpan.FromMilliseconds(sorted[^1]),
            Runs = Runs,
            Met = delta <= Target.TotalMilliseconds && thirdParty.Count == 0,
            Notes = $"Import-Module of Ksctl minus the trivial module: {delta:0} ms; assemblies the Ksctl import loaded beyond the trivial one's: " +
                    $"{(extraNew.Count == 0 ? "none" : string.Join(", ", extraNew))}; third-party from Dependencies/: {(thirdParty.Count == 0 ? "none" : string.Join(", ", thirdParty))}",
            Details = details,
        };
    }

    private static (Probe, double) RunProbe(string probe, string module)
    {
        var env = new Dictionary<string, string> { ["POWERSHELL_TELEMETRY_OPTOUT"] = "1", ["POWERSHELL_UPDATECHECK"] = "Off" };
        var clock = Stopwatch.StartNew();
        var (code, stdout, stderr) = TestMachines.Run("dotnet", TimeSpan.FromMinutes(2), env, probe, module);
        var processMs = clock.Elapsed.TotalMilliseconds;
        if (code != 0) throw new InvalidOperationException($"ImportProbe {module} failed ({code}): {stderr} {stdout}");
        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        var p = JsonSerializer.Deserialize<Probe>(line, new JsonSerializerOptions { PropertyNameCaseInsensitive = true })
                ?? throw new InvalidOperationException("no probe output: " + stdout);
        return (p, processMs);
    }

    private static void Build(string project, string? output)
    {
        string[] args = output is null
            ? ["build", project, "-c", "Release", "-nologo", "-v", "q"]
            : ["build", project, "-c", "Release", "-nologo", "-v", "q", "-o", output];
        Console.Error.WriteLine($"  dotnet {string.Join(' ', args)}");
        var (code, stdout, stderr) = TestMachines.Run("dotnet", TimeSpan.FromMinutes(5), args);
        if (code != 0) throw new InvalidOperationException($"dotnet build {project} failed ({code}): {stdout} {stderr}");
    }

    internal static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToList();
        return v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
    }
}
