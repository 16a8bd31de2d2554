using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Ksctl.HelpGen;
using Xunit;

namespace Ksctl.HelpGen.Tests;

public enum WidgetKind { Small, Large }

/// <summary>A compiled cmdlet matching <see cref="HelpGenTests.SamplePage"/>, so the real engine can show its help.</summary>
[Cmdlet(VerbsCommon.Remove, "Widget", DefaultParameterSetName = "Name", SupportsShouldProcess = true)]
public sealed class RemoveWidgetCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Name", ValueFromPipelineByPropertyName = true)]
    [Alias("WidgetName")]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = "InputObject", ValueFromPipeline = true)]
    public PSObject? InputObject { get; set; }

    [Parameter]
    public WidgetKind Kind { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }
}

/// <summary>Loads this test assembly as a binary module with the generated help beside it and asks Get-Help.</summary>
public class GetHelpTests
{
    [Fact]
    public void Get_Help_reads_the_generated_maml()
    {
        Environment.SetEnvironmentVariable("POWERSHELL_TELEMETRY_OPTOUT", "1");
        var assembly = typeof(RemoveWidgetCommand).Assembly.Location;
        WriteHelp(assembly);
        var iss = InitialSessionState.CreateDefault2();
        iss.ImportPSModule(new[] { assembly });
        using var runspace = RunspaceFactory.CreateRunspace(iss);
        runspace.Open();
        using var ps = PowerShell.Create();
        ps.Runspace = runspace;
        var result = ps.AddScript("Get-Help Remove-Widget -Full").Invoke();
        Assert.Empty(ps.Streams.Error);
        var help = Assert.Single(result);

        Assert.Equal("Removes a widget.", help.Properties["Synopsis"]?.Value?.ToString()?.Trim());

        var paramNames = Items(help, "parameters", "parameter").Select(p => Prop(p, "name")).ToList();
        Assert.Equal(new[] { "Name", "InputObject", "Kind", "Force", "WhatIf", "Confirm" }, paramNames);
        var examples = Items(help, "examples", "example").ToList();
        Assert.Equal(2, examples.Count);
        Assert.Contains("Remove-Widget -Name w1 -Force", Prop(examples[0], "code"));
        var syntaxItems = Items(help, "syntax", "syntaxItem").ToList();
        Assert.Equal(2, syntaxItems.Count);
    }

    [Fact]
    public void Rendered_help_shows_syntax_parameters_and_examples()
    {
        var assembly = typeof(RemoveWidgetCommand).Assembly.Location;
        WriteHelp(assembly);
        var iss = InitialSessionState.CreateDefault2();
        iss.ImportPSModule(new[] { assembly });
        var host = new RecordingHost();
        using var runspace = RunspaceFactory.CreateRunspace(host, iss);
        runspace.Open();
        using var ps = PowerShell.Create();
        ps.Runspace = runspace;
        ps.AddScript("Get-Help Remove-Widget -Full | Out-Default").Invoke();
        Assert.Empty(ps.Streams.Error);
        var text = System.Text.RegularExpressions.Regex.Replace(host.Text, "\x1b\\[[0-9;]*m", "");
        Assert.Contains("Remove-Widget [-Name] <String> [-Kind {Small | Large}] [-Force] [-WhatIf] [-Confirm] [<CommonParameters>]", text);
        Assert.Contains("Remove-Widget -InputObject <Widget>", text);
        Assert.Contains("Accept pipeline input?       True (ByPropertyName)", text);
        Assert.Contains("Example 2: Pipeline", text);
        Assert.Contains("Widgets are forever.", text);
    }

    private static readonly object HelpFileLock = new();

    internal static void WriteHelp(string assembly)
    {
        var baseDir = Path.GetDirectoryName(assembly)!;
        var helpName = Path.GetFileName(assembly) + "-Help.xml";
        var doc = MamlWriter.Build(new[] { MarkdownHelpParser.Parse(HelpGenTests.SamplePage, "Remove-Widget.md") });
        lock (HelpFileLock)
        {
            // The engine looks in the module folder's culture subfolders (and the folder itself).
            foreach (var dir in new[] { baseDir, Path.Combine(baseDir, "en-US"), Path.Combine(baseDir, CultureInfo.CurrentUICulture.Name) }.Distinct())
                MamlWriter.Save(doc, Path.Combine(dir, helpName));
        }
    }

    private static string Prop(PSObject o, string name) => o.Properties[name]?.Value?.ToString() ?? "";

    private static IEnumerable<PSObject> Items(PSObject help, string container, string item)
    {
        var c = help.Properties[container]?.Value as PSObject;
        Assert.NotNull(c);
        var v = c!.Properties[item]?.Value;
        if (v is PSObject single && single.BaseObject is not IEnumerable) return new[] { single };
        var raw = v is PSObject wrapped ? wrapped.BaseObject : v;
        return ((IEnumerable)raw!).Cast<object>().Select(PSObject.AsPSObject);
    }
}
