using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;

namespace Ksctl.Host;

/// <summary>
/// ksctl-host: runs one PowerShell command line (or -File script.ps1) with the built Ksctl module imported, on the
/// real engine (System.Management.Automation), for machines without pwsh.
///   ksctl-host [--module path/to/Ksctl.psd1] Get-KsctlCluster
///   ksctl-host -File ./script.ps1 [args...]
/// Exits 0 when nothing wrote an error, 1 otherwise (or the script's own `exit n`).
/// </summary>
internal static class Program
{
    private const string Usage = """
        Usage: ksctl-host [--module <Ksctl.psd1 or folder>] <PowerShell command line...>
               ksctl-host [--module <path>] -File <script.ps1> [arguments...]
               ksctl-host [--module <path>] token --cluster-name <name> --region <region> [--profile <profile>]
        Runs the command with the Ksctl module imported and prints the results as PowerShell would.
        `token` prints the ExecCredential with an EKS bearer token (what an EKS kubeconfig runs without the AWS CLI).
        """;

    public static int Main(string[] args)
    {
        Environment.SetEnvironmentVariable("POWERSHELL_TELEMETRY_OPTOUT", "1");
        string? module = null;
        string? file = null;
        var rest = new List<string>();
        if (GcpTokenVerb.CommandLine(args) is { } token) return LocateModule(null) is { } m ? Run(m, null, token) : 2;
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (rest.Count == 0 && file is null)
            {
                if (a is "--module" or "-Module" && i + 1 < args.Length) { module = args[++i]; continue; }
                if (a is "-File" or "-f" or "--file" && i + 1 < args.Length) { file = args[++i]; continue; }
                if (a is "-Command" or "-c" or "--command") continue;
                if (a is "--help" or "-h" or "-?" or "/?") { Console.WriteLine(Usage); return 0; }
            }
            rest.Add(a);
        }
        if (file is null && rest.Count == 0) { Console.Error.WriteLine(Usage); return 2; }

        var manifest = LocateModule(module);
        if (manifest is null)
        {
            Console.Error.WriteLine($"ksctl-host: cannot find the Ksctl module ({module ?? "built module folder"}); build it with 'dotnet build' or pass --module <path>.");
            return 2;
        }
        // `ksctl token ...`: the EKS token for a kubeconfig's exec entry (no PowerShell runspace needed).
        if (file is null && rest[0] == "token") return TokenCommand.Run(manifest, rest.Skip(1).ToList());
        return Run(manifest, file, rest);
    }

    /// <summary>
    /// --module (a .psd1 or its folder), else the module bundled beside the host (the installed .NET tool carries it as
    /// Ksctl/), else the module folder the build laid out (baked in at build time).
    /// </summary>
    internal static string? LocateModule(string? given)
    {
        var candidates = new List<string>();
        if (given is not null) candidates.Add(given);
        else
        {
            candidates.Add(Path.Combine(AppContext.BaseDirectory, "Ksctl"));
            var baked = typeof(Program).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "KsctlModuleOutputDir")?.Value;
            if (!string.IsNullOrEmpty(baked)) candidates.Add(baked);
        }
        foreach (var c in candidates)
        {
            var full = Path.GetFullPath(c);
            if (File.Exists(full)) return full;
            var psd1 = Path.Combine(full, "Ksctl.psd1");
            if (File.Exists(psd1)) return psd1;
        }
        return null;
    }

    private static int Run(string manifest, string? file, List<string> rest)
    {
        var host = new ConsoleHost();
        var iss = InitialSessionState.CreateDefault2();
        iss.ImportPSModule(manifest);
        iss.ThrowOnRunspaceOpenError = true;
        using var runspace = RunspaceFactory.CreateRunspace(host, iss);
        try
        {
            runspace.Open();
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"ksctl-host: cannot import {manifest}: {ex.Message}");
            return 2;
        }

        if (Console.IsOutputRedirected || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")))
        {
            // Escape sequences in a file or pipe are noise.
            using var plain = PowerShell.Create(runspace);
            plain.AddScript("$PSStyle.OutputRendering = 'PlainText'").Invoke();
        }

        using var ps = PowerShell.Create(runspace);
        var errors = 0;
        ps.Streams.Error.DataAdded += (_, e) =>
        {
            errors++;
            host.UI.WriteErrorLine(FormatError(ps.Streams.Error[e.Index]));
        };
        if (file is not null)
        {
            ps.AddCommand(Path.GetFullPath(file));
            foreach (var a in rest) ps.AddArgument(a);
        }
        else
        {
            ps.AddScript(string.Join(' ', rest));
        }
        ps.AddCommand("Out-Default");

        ConsoleCancelEventHandler cancel = (_, e) =>
        {
            e.Cancel = true; // stop the pipeline, not the process: Core gets its token cancelled and checkpoints
            ps.BeginStop(null, null);
        };
        Console.CancelKeyPress += cancel;
        var exited = false;
        try
        {
            ps.Invoke();
            exited = ps.HadErrors && errors == 0;
        }
        catch (PipelineStoppedException)
        {
            host.ClearProgress();
            Console.Error.WriteLine("ksctl-host: the command was stopped.");
            return 130;
        }
        catch (RuntimeException ex)
        {
            host.ClearProgress();
            host.UI.WriteErrorLine(FormatError(ex.ErrorRecord));
            return host.ExitCode ?? 1;
        }
        catch (Exception ex)
        {
            host.ClearProgress();
            Console.Error.WriteLine($"ksctl-host: {ex.Message}");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= cancel;
        }
        host.ClearProgress();
        if (host.ExitCode is { } code) return code;
        // `exit n` in the script or command line sets $LASTEXITCODE, as pwsh -File/-Command report it.
        if (exited && runspace.SessionStateProxy.GetVariable("LASTEXITCODE") is int last) return last;
        return errors > 0 || ps.HadErrors ? 1 : 0;
    }

    /// <summary>pwsh's normal error view: "Command: message" then the category and error id.</summary>
    internal static string FormatError(ErrorRecord record)
    {
        var command = record.InvocationInfo?.MyCommand?.Name;
        var message = record.ErrorDetails?.Message ?? record.Exception?.Message ?? record.ToString();
        var text = string.IsNullOrEmpty(command) ? message : $"{command}: {message}";
        var lines = new List<string> { text };
        if (!string.IsNullOrEmpty(record.ErrorDetails?.RecommendedAction))
            lines.Add($"    Recommended action: {record.ErrorDetails!.RecommendedAction}");
        lines.Add($"    + CategoryInfo          : {record.CategoryInfo}");
        lines.Add($"    + FullyQualifiedErrorId : {record.FullyQualifiedErrorId}");
        return string.Join(Environment.NewLine, lines);
    }
}
