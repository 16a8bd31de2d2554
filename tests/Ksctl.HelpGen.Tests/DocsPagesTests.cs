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

    // Which parameters each page documents, and their metadata, is checked against the compiled cmdlets by ModuleHelpMatchesCodeTests.

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
