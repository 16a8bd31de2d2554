using Ksctl.HelpGen;
using Xunit;

namespace Ksctl.HelpGen.Tests;

/// <summary>The real pages in docs/help convert and meet the project's bar for help content.</summary>
public class DocsPagesTests
{
    private static string HelpFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "docs", "help");
            if (Directory.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "Directory.Build.props")))
                return candidate;
        }
        throw new DirectoryNotFoundException("docs/help not found above " + AppContext.BaseDirectory);
    }

    private static List<CommandHelp> Pages() =>
        Directory.GetFiles(HelpFolder(), "*.md").Select(MarkdownHelpParser.ParseFile).ToList();

    public static TheoryData<string, string[]> ExpectedParameters => new()
    {
        { "New-KsctlCluster", new[] { "Name", "Provider", "Type", "Region", "KubernetesVersion", "NodeCount", "NodeSize",
            "Distribution", "ControlPlaneCount", "WorkerCount", "EtcdCount", "ControlPlaneSize", "WorkerSize", "EtcdSize",
            "LoadBalancerSize", "Cni", "Application", "Machine", "TrustOnFirstUse", "ArtifactSource", "AllowInsecureArtifactSource", "SpecPath",
            "ThrottleLimit", "Force", "Credential", "TenantId", "SubscriptionId" } },
        { "Get-KsctlCluster", new[] { "Name", "Provider", "Type", "Region" } },
        { "Remove-KsctlCluster", new[] { "Name", "Provider", "Type", "Region", "InputObject", "Force", "ThrottleLimit", "PassThru", "Credential", "TenantId", "SubscriptionId" } },
        { "Resize-KsctlCluster", new[] { "Name", "Provider", "Type", "Region", "InputObject", "WorkerCount", "ThrottleLimit", "Force", "Credential", "TenantId", "SubscriptionId" } },
        { "Switch-KsctlContext", new[] { "Name", "Provider", "Type", "Region", "InputObject", "Path", "PassThru" } },
        { "Get-KsctlConfiguration", Array.Empty<string>() },
        { "Set-KsctlConfiguration", new[] { "StateStore", "StatePath", "StorageAccountUri", "Container", "ConnectionString", "StateKeyPath", "PassThru" } },
        { "Set-KsctlCredential", new[] { "Provider", "Credential", "TenantId", "SubscriptionId", "Region", "PassThru" } },
        { "Get-KsctlCredential", new[] { "Provider" } },
        { "Remove-KsctlCredential", new[] { "Provider", "Force", "PassThru" } },
        { "Export-KsctlState", new[] { "Name", "Provider", "Type", "Region", "Path", "KeyPath" } },
        { "Import-KsctlState", new[] { "Path", "KeyPath", "Force", "PassThru" } },
    };

    [Fact]
    public void All_pages_convert_with_the_tool()
    {
        var output = Path.Combine(Path.GetTempPath(), $"ksctl-help-{Guid.NewGuid():N}.xml");
        try
        {
            var stderr = new StringWriter();
            Assert.True(Program.Run(new[] { HelpFolder(), output }, new StringWriter(), stderr) == 0, stderr.ToString());
            Assert.True(File.Exists(output));
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Theory]
    [MemberData(nameof(ExpectedParameters))]
    public void Page_documents_exactly_the_cmdlet_parameters(string cmdlet, string[] parameters)
    {
        var page = Pages().SingleOrDefault(p => p.Name == cmdlet);
        Assert.NotNull(page);
        Assert.Equal(parameters.OrderBy(x => x), page!.Parameters.Select(p => p.Name).OrderBy(x => x));
    }

    [Fact]
    public void Pages_have_useful_content()
    {
        foreach (var page in Pages())
        {
            Assert.True(page.Description.Count > 0, $"{page.Name}: no DESCRIPTION");
            Assert.True(page.Examples.Count >= 2, $"{page.Name}: fewer than 2 examples");
            Assert.All(page.Examples, e => Assert.True(e.Remarks.Count > 0, $"{page.Name}: '{e.Title}' has no remarks"));
            Assert.True(page.Inputs.Count > 0, $"{page.Name}: no INPUTS");
            Assert.True(page.Outputs.Count > 0, $"{page.Name}: no OUTPUTS");
            Assert.True(page.Notes.Count > 0, $"{page.Name}: no NOTES");
            Assert.True(page.HasCommonParameters, $"{page.Name}: no CommonParameters");
            Assert.DoesNotContain(page.Parameters, p => p.Name is "WhatIf" or "Confirm" or "Verbose");
        }
    }
}
