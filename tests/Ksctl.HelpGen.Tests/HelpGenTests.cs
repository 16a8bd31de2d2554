using System.Xml.Linq;
using Ksctl.HelpGen;
using Xunit;

namespace Ksctl.HelpGen.Tests;

public class HelpGenTests
{
    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Cmd = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    internal const string SamplePage = """
        ---
        external help file: Ksctl.PowerShell.dll-Help.xml
        Module Name: Ksctl
        schema: 2.0.0
        ---

        # Remove-Widget

        ## SYNOPSIS
        Removes a widget.

        ## SYNTAX

        ### Name (Default)
        ```
        Remove-Widget [-Name] <String> [-Force] [-WhatIf] [-Confirm] [<CommonParameters>]
        ```

        ### InputObject
        ```
        Remove-Widget -InputObject <Widget> [-Force] [-WhatIf] [-Confirm] [<CommonParameters>]
        ```

        ## DESCRIPTION
        The Remove-Widget cmdlet removes a widget
        from the store.

        It asks for confirmation.

        ## EXAMPLES

        ### Example 1: Remove one widget
        ```powershell
        Remove-Widget -Name w1 -Force
        ```

        Removes w1 without asking.

        ### Example 2: Pipeline
        ```powershell
        Get-Widget | Remove-Widget
        ```

        Removes every widget.

        ## PARAMETERS

        ### -Name
        The widget name.

        ```yaml
        Type: String
        Parameter Sets: Name
        Aliases: WidgetName

        Required: True
        Position: 0
        Default value: None
        Accept pipeline input: True (ByPropertyName)
        Accept wildcard characters: False
        ```

        ### -InputObject
        A widget from Get-Widget.

        ```yaml
        Type: Widget
        Parameter Sets: InputObject
        Aliases:

        Required: True
        Position: Named
        Default value: None
        Accept pipeline input: True (ByValue)
        Accept wildcard characters: False
        ```

        ### -Kind
        The widget kind.

        ```yaml
        Type: WidgetKind
        Parameter Sets: (All)
        Aliases:
        Accepted values: Small, Large

        Required: False
        Position: Named
        Default value: Small
        Accept pipeline input: False
        Accept wildcard characters: False
        ```

        ### -Force
        Do not ask.

        ```yaml
        Type: SwitchParameter
        Parameter Sets: (All)
        Aliases:

        Required: False
        Position: Named
        Default value: False
        Accept pipeline input: False
        Accept wildcard characters: False
        ```

        ### CommonParameters
        This cmdlet supports the common parameters.

        ## INPUTS

        ### Widget
        A widget object.

        ## OUTPUTS

        ### None
        Nothing.

        ## NOTES
        Widgets are forever.

        ## RELATED LINKS

        [Get-Widget](https://example.com/get-widget)

        [Add-Widget](Add-Widget.md)

        about_Widgets
        """;

    private static XDocument Convert(string page) =>
        MamlWriter.Build(new[] { MarkdownHelpParser.Parse(page, "Remove-Widget.md") });

    private static XElement CommandOf(XDocument doc) => doc.Root!.Element(Cmd + "command")!;

    private static string Para(XElement? description) =>
        string.Join("|", description!.Elements(Maml + "para").Select(p => p.Value));

    [Fact]
    public void Root_is_maml_helpItems_with_one_command()
    {
        var doc = Convert(SamplePage);
        Assert.Equal(Msh + "helpItems", doc.Root!.Name);
        Assert.Equal("maml", doc.Root.Attribute("schema")!.Value);
        Assert.Single(doc.Root.Elements(Cmd + "command"));
    }

    [Fact]
    public void Details_hold_name_verb_noun_and_synopsis()
    {
        var details = CommandOf(Convert(SamplePage)).Element(Cmd + "details")!;
        Assert.Equal("Remove-Widget", details.Element(Cmd + "name")!.Value);
        Assert.Equal("Remove", details.Element(Cmd + "verb")!.Value);
        Assert.Equal("Widget", details.Element(Cmd + "noun")!.Value);
        Assert.Equal("Removes a widget.", Para(details.Element(Maml + "description")));
    }

    [Fact]
    public void Description_joins_lines_and_splits_paragraphs()
    {
        var cmd = CommandOf(Convert(SamplePage));
        Assert.Equal("The Remove-Widget cmdlet removes a widget from the store.|It asks for confirmation.",
            Para(cmd.Element(Maml + "description")));
    }

    [Fact]
    public void Syntax_has_one_item_per_parameter_set_default_first()
    {
        var items = CommandOf(Convert(SamplePage)).Element(Cmd + "syntax")!.Elements(Cmd + "syntaxItem").ToList();
        Assert.Equal(2, items.Count);
        string[] Names(XElement item) => item.Elements(Cmd + "parameter").Select(p => p.Element(Maml + "name")!.Value).ToArray();
        Assert.All(items, i => Assert.Equal("Remove-Widget", i.Element(Maml + "name")!.Value));
        Assert.Equal(new[] { "Name", "Kind", "Force", "WhatIf", "Confirm" }, Names(items[0]));
        Assert.Equal(new[] { "InputObject", "Kind", "Force", "WhatIf", "Confirm" }, Names(items[1]));
    }

    [Fact]
    public void Syntax_switch_has_no_value_and_enum_has_value_group()
    {
        var item = CommandOf(Convert(SamplePage)).Element(Cmd + "syntax")!.Elements(Cmd + "syntaxItem").First();
        var force = item.Elements(Cmd + "parameter").Single(p => p.Element(Maml + "name")!.Value == "Force");
        Assert.Null(force.Element(Cmd + "parameterValue"));
        var kind = item.Elements(Cmd + "parameter").Single(p => p.Element(Maml + "name")!.Value == "Kind");
        Assert.Equal(new[] { "Small", "Large" },
            kind.Element(Cmd + "parameterValueGroup")!.Elements(Cmd + "parameterValue").Select(v => v.Value));
    }

    [Fact]
    public void Parameters_carry_yaml_metadata()
    {
        var ps = CommandOf(Convert(SamplePage)).Element(Cmd + "parameters")!.Elements(Cmd + "parameter").ToList();
        Assert.Equal(new[] { "Name", "InputObject", "Kind", "Force", "WhatIf", "Confirm" }, ps.Select(p => p.Element(Maml + "name")!.Value));
        Assert.Equal("wi", ps[4].Attribute("aliases")!.Value);
        var name = ps[0];
        Assert.Equal("true", name.Attribute("required")!.Value);
        Assert.Equal("0", name.Attribute("position")!.Value);
        Assert.Equal("True (ByPropertyName)", name.Attribute("pipelineInput")!.Value);
        Assert.Equal("false", name.Attribute("globbing")!.Value);
        Assert.Equal("WidgetName", name.Attribute("aliases")!.Value);
        Assert.Equal("The widget name.", Para(name.Element(Maml + "description")));
        Assert.Equal("String", name.Element(Cmd + "parameterValue")!.Value);
        Assert.Equal("String", name.Element(Dev + "type")!.Element(Maml + "name")!.Value);
        Assert.Equal("None", name.Element(Dev + "defaultValue")!.Value);

        var input = ps[1];
        Assert.Equal("named", input.Attribute("position")!.Value);
        Assert.Equal("none", input.Attribute("aliases")!.Value.ToLowerInvariant());
        Assert.Equal("True (ByValue)", input.Attribute("pipelineInput")!.Value);

        var force = ps[3];
        Assert.Equal("false", force.Element(Cmd + "parameterValue")!.Attribute("required")!.Value);
        Assert.Equal("SwitchParameter", force.Element(Cmd + "parameterValue")!.Value);
    }

    [Fact]
    public void Inputs_outputs_notes_examples_and_links()
    {
        var cmd = CommandOf(Convert(SamplePage));
        var input = cmd.Element(Cmd + "inputTypes")!.Element(Cmd + "inputType")!;
        Assert.Equal("Widget", input.Element(Dev + "type")!.Element(Maml + "name")!.Value);
        Assert.Equal("A widget object.", Para(input.Element(Maml + "description")));
        Assert.Equal("None", cmd.Element(Cmd + "returnValues")!.Element(Cmd + "returnValue")!.Element(Dev + "type")!.Element(Maml + "name")!.Value);
        Assert.Equal("Widgets are forever.", string.Join("|", cmd.Element(Maml + "alertSet")!.Element(Maml + "alert")!.Elements(Maml + "para").Select(p => p.Value)));

        var examples = cmd.Element(Cmd + "examples")!.Elements(Cmd + "example").ToList();
        Assert.Equal(2, examples.Count);
        Assert.Contains("Example 1: Remove one widget", examples[0].Element(Maml + "title")!.Value);
        Assert.Equal("Remove-Widget -Name w1 -Force", examples[0].Element(Dev + "code")!.Value);
        Assert.Equal("Removes w1 without asking.", string.Join("|", examples[0].Element(Dev + "remarks")!.Elements(Maml + "para").Select(p => p.Value)));

        var links = cmd.Element(Cmd + "relatedLinks")!.Elements(Maml + "navigationLink").ToList();
        Assert.Equal(3, links.Count);
        Assert.Equal("Get-Widget", links[0].Element(Maml + "linkText")!.Value);
        Assert.Equal("https://example.com/get-widget", links[0].Element(Maml + "uri")!.Value);
        Assert.Equal("Add-Widget", links[1].Element(Maml + "linkText")!.Value);
        Assert.Equal("", links[1].Element(Maml + "uri")!.Value);
        Assert.Equal("about_Widgets", links[2].Element(Maml + "linkText")!.Value);
    }

    [Fact]
    public void Per_set_yaml_blocks_give_per_set_required_and_position()
    {
        var page = SamplePage.Replace("""
            ### -InputObject
            """, """
            ### -Path
            A path.

            ```yaml
            Type: String
            Parameter Sets: Name
            Aliases:

            Required: True
            Position: 1
            Default value: None
            Accept pipeline input: False
            Accept wildcard characters: False
            ```

            ```yaml
            Type: String
            Parameter Sets: InputObject
            Aliases:

            Required: False
            Position: Named
            Default value: None
            Accept pipeline input: False
            Accept wildcard characters: False
            ```

            ### -InputObject
            """);
        var items = CommandOf(Convert(page)).Element(Cmd + "syntax")!.Elements(Cmd + "syntaxItem").ToList();
        XElement PathIn(XElement item) => item.Elements(Cmd + "parameter").Single(p => p.Element(Maml + "name")!.Value == "Path");
        Assert.Equal("true", PathIn(items[0]).Attribute("required")!.Value);
        Assert.Equal("1", PathIn(items[0]).Attribute("position")!.Value);
        Assert.Equal("false", PathIn(items[1]).Attribute("required")!.Value);
        Assert.Equal("named", PathIn(items[1]).Attribute("position")!.Value);
    }

    [Fact]
    public void Page_without_parameter_sets_has_one_syntax_item()
    {
        const string page = """
            # Get-Thing

            ## SYNOPSIS
            Gets the thing.

            ## EXAMPLES

            ### Example 1
            ```powershell
            Get-Thing
            ```

            ## PARAMETERS

            ### CommonParameters
            This cmdlet supports the common parameters.
            """;
        var doc = MamlWriter.Build(new[] { MarkdownHelpParser.Parse(page, "Get-Thing.md") });
        var item = Assert.Single(CommandOf(doc).Element(Cmd + "syntax")!.Elements(Cmd + "syntaxItem"));
        Assert.Empty(item.Elements(Cmd + "parameter"));
    }

    [Fact]
    public void No_WhatIf_in_syntax_means_no_risk_mitigation_parameters()
    {
        var page = SamplePage.Replace(" [-WhatIf] [-Confirm]", "");
        var names = CommandOf(Convert(page)).Element(Cmd + "parameters")!.Elements(Cmd + "parameter").Select(p => p.Element(Maml + "name")!.Value);
        Assert.DoesNotContain("WhatIf", names);
    }

    [Fact]
    public void Missing_synopsis_fails_with_message()
    {
        var page = SamplePage.Replace("## SYNOPSIS\nRemoves a widget.\n", "");
        var ex = Assert.Throws<HelpFormatException>(() => MarkdownHelpParser.Parse(page, "Remove-Widget.md"));
        Assert.Contains("SYNOPSIS", ex.Message);
        Assert.Contains("Remove-Widget.md", ex.Message);
    }

    [Fact]
    public void Parameter_without_yaml_fails_with_message_and_line()
    {
        var start = SamplePage.IndexOf("The widget name.", StringComparison.Ordinal);
        var end = SamplePage.IndexOf("### -InputObject", StringComparison.Ordinal);
        var page = SamplePage[..start] + "The widget name.\n\n" + SamplePage[end..];
        var ex = Assert.Throws<HelpFormatException>(() => MarkdownHelpParser.Parse(page, "Remove-Widget.md"));
        Assert.Contains("-Name", ex.Message);
        Assert.Contains("yaml", ex.Message);
        Assert.True(ex.Line > 0);
    }

    [Theory]
    [InlineData("Required: True", "Required: Yes", "Required")]
    [InlineData("Position: 0", "Position: first", "Position")]
    [InlineData("Type: String\n", "", "Type")]
    [InlineData("## NOTES", "## NOTEZ", "Unknown section")]
    [InlineData("# Remove-Widget", "# RemoveWidget", "Verb-Noun")]
    public void Other_malformed_pages_fail(string find, string replace, string expected)
    {
        var idx = SamplePage.IndexOf(find, StringComparison.Ordinal);
        var page = SamplePage[..idx] + replace + SamplePage[(idx + find.Length)..];
        var ex = Assert.Throws<HelpFormatException>(() => MarkdownHelpParser.Parse(page, "Remove-Widget.md"));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Unclosed_code_block_fails()
    {
        var page = SamplePage + "\n```powershell\nGet-Widget\n";
        var ex = Assert.Throws<HelpFormatException>(() => MarkdownHelpParser.Parse(page, "Remove-Widget.md"));
        Assert.Contains("never closed", ex.Message);
    }

    [Fact]
    public void Tool_writes_file_and_fails_on_malformed_page()
    {
        var dir = Directory.CreateTempSubdirectory("helpgen");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "Remove-Widget.md"), SamplePage);
            var outPath = Path.Combine(dir.FullName, "out", "Ksctl.PowerShell.dll-Help.xml");
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            Assert.Equal(0, Program.Run(new[] { dir.FullName, outPath }, stdout, stderr));
            var doc = XDocument.Load(outPath);
            Assert.Equal("Remove-Widget", doc.Root!.Element(Cmd + "command")!.Element(Cmd + "details")!.Element(Cmd + "name")!.Value);

            File.Delete(outPath);
            File.WriteAllText(Path.Combine(dir.FullName, "Get-Widget.md"), "# Get-Widget\n\n## DESCRIPTION\nNo synopsis here.\n");
            stderr = new StringWriter();
            Assert.Equal(1, Program.Run(new[] { dir.FullName, outPath }, stdout, stderr));
            Assert.Contains("Get-Widget.md", stderr.ToString());
            Assert.Contains("SYNOPSIS", stderr.ToString());
            Assert.False(File.Exists(outPath));

            Assert.Equal(2, Program.Run(Array.Empty<string>(), stdout, stderr));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Title_must_match_file_name()
    {
        var dir = Directory.CreateTempSubdirectory("helpgen");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "Get-Gadget.md"), SamplePage);
            var stderr = new StringWriter();
            Assert.Equal(1, Program.Run(new[] { dir.FullName, Path.Combine(dir.FullName, "x.xml") }, new StringWriter(), stderr));
            Assert.Contains("does not match the file name", stderr.ToString());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
