namespace Ksctl.HelpGen;

/// <summary>One cmdlet help page, as parsed from a platyPS-style markdown file.</summary>
public sealed class CommandHelp
{
    public string Name { get; set; } = "";
    public string Verb => Name.Split('-', 2)[0];
    public string Noun => Name.Contains('-') ? Name.Split('-', 2)[1] : "";
    public List<string> Synopsis { get; } = new();
    public List<string> Description { get; } = new();
    /// <summary>Parameter set names in the order of the SYNTAX section's ### headings (if any).</summary>
    public List<string> SyntaxSetOrder { get; } = new();
    public string? DefaultParameterSet { get; set; }
    public List<ExampleHelp> Examples { get; } = new();
    public List<ParameterHelp> Parameters { get; } = new();
    public bool HasCommonParameters { get; set; }
    /// <summary>
    /// True when the SYNTAX blocks show -WhatIf/-Confirm. Those are not documented as parameters on the page
    /// (they are risk-mitigation parameters, like the common ones), but Get-Help should show them in the syntax.
    /// </summary>
    public bool SupportsShouldProcess { get; set; }
    public List<TypeHelp> Inputs { get; } = new();
    public List<TypeHelp> Outputs { get; } = new();
    public List<string> Notes { get; } = new();
    public List<LinkHelp> RelatedLinks { get; } = new();
    public string SourceFile { get; set; } = "";
}

public sealed class ExampleHelp
{
    public string Title { get; set; } = "";
    public string Code { get; set; } = "";
    public List<string> Remarks { get; } = new();
}

public sealed class ParameterHelp
{
    public string Name { get; set; } = "";
    public List<string> Description { get; } = new();
    /// <summary>One entry per yaml block; a parameter can have different metadata per parameter set.</summary>
    public List<ParameterMetadata> Metadata { get; } = new();

    public ParameterMetadata Primary => Metadata[0];
    public bool IsSwitch => Primary.Type is "SwitchParameter" or "Switch" or "System.Management.Automation.SwitchParameter";

    /// <summary>The metadata block that applies to <paramref name="set"/>, or null if the parameter is not in it.</summary>
    public ParameterMetadata? ForSet(string set) =>
        Metadata.FirstOrDefault(m => m.ParameterSets.Contains(set, StringComparer.OrdinalIgnoreCase))
        ?? Metadata.FirstOrDefault(m => m.IsInAllSets);
}

public sealed class ParameterMetadata
{
    public string Type { get; set; } = "";
    public List<string> ParameterSets { get; } = new();
    public bool IsInAllSets => ParameterSets.Count == 0 || ParameterSets.Any(s => s.Equals("(All)", StringComparison.OrdinalIgnoreCase));
    public string Aliases { get; set; } = "None";
    public bool Required { get; set; }
    /// <summary>"Named" or a number.</summary>
    public string Position { get; set; } = "Named";
    public string DefaultValue { get; set; } = "None";
    public string PipelineInput { get; set; } = "False";
    public bool Globbing { get; set; }
    public List<string> AcceptedValues { get; } = new();
}

public sealed class TypeHelp
{
    public string TypeName { get; set; } = "";
    public List<string> Description { get; } = new();
}

public sealed class LinkHelp
{
    public string Text { get; set; } = "";
    public string Uri { get; set; } = "";
}

/// <summary>A help page that cannot be converted. The message names the file and line.</summary>
public sealed class HelpFormatException : Exception
{
    public HelpFormatException(string file, int line, string message)
        : base(line > 0 ? $"{file}:{line}: {message}" : $"{file}: {message}")
    {
        File = file;
        Line = line;
        Reason = message;
    }

    public string File { get; }
    public int Line { get; }
    public string Reason { get; }
}
