using System.Text.RegularExpressions;

namespace Ksctl.HelpGen;

/// <summary>
/// Parses one platyPS-style cmdlet page: optional front matter, <c># Verb-Noun</c>, then the
/// <c>##</c> sections SYNOPSIS, SYNTAX, DESCRIPTION, EXAMPLES, PARAMETERS, INPUTS, OUTPUTS,
/// NOTES and RELATED LINKS. Anything it cannot convert faithfully is a <see cref="HelpFormatException"/>.
/// </summary>
public static partial class MarkdownHelpParser
{
    private static readonly string[] KnownSections =
        { "SYNOPSIS", "SYNTAX", "DESCRIPTION", "EXAMPLES", "PARAMETERS", "INPUTS", "OUTPUTS", "NOTES", "RELATED LINKS" };

    private static readonly string[] KnownYamlKeys =
    {
        "Type", "Parameter Sets", "Aliases", "Required", "Position", "Default value",
        "Accept pipeline input", "Accept wildcard characters", "Accepted values", "Applicable",
    };

    public static CommandHelp ParseFile(string path) => Parse(File.ReadAllText(path), Path.GetFileName(path));

    public static CommandHelp Parse(string markdown, string fileName)
    {
        var blocks = Tokenize(markdown, fileName);
        var help = new CommandHelp { SourceFile = fileName };
        var seenSections = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        int i = 0;
        // Title.
        while (i < blocks.Count && blocks[i].Kind != BlockKind.Heading) i++;
        if (i == blocks.Count || blocks[i].Level != 1)
            throw new HelpFormatException(fileName, i < blocks.Count ? blocks[i].Line : 0, "The page must start with a '# Verb-Noun' title.");
        help.Name = blocks[i].Text.Trim();
        if (!VerbNoun().IsMatch(help.Name))
            throw new HelpFormatException(fileName, blocks[i].Line, $"The title '{help.Name}' is not a Verb-Noun cmdlet name.");
        i++;

        while (i < blocks.Count)
        {
            var b = blocks[i];
            if (b.Kind != BlockKind.Heading || b.Level != 2)
            {
                if (b.Kind == BlockKind.Heading && b.Level == 1)
                    throw new HelpFormatException(fileName, b.Line, "Only one '#' title is allowed per page.");
                throw new HelpFormatException(fileName, b.Line, "Content outside a '##' section.");
            }
            var section = b.Text.Trim().ToUpperInvariant();
            if (!KnownSections.Contains(section))
                throw new HelpFormatException(fileName, b.Line, $"Unknown section '## {b.Text.Trim()}'. Expected one of: {string.Join(", ", KnownSections)}.");
            if (!seenSections.Add(section))
                throw new HelpFormatException(fileName, b.Line, $"Section '## {section}' appears twice.");
            int start = ++i;
            while (i < blocks.Count && !(blocks[i].Kind == BlockKind.Heading && blocks[i].Level <= 2)) i++;
            var body = blocks.GetRange(start, i - start);

            switch (section)
            {
                case "SYNOPSIS": help.Synopsis.AddRange(Paragraphs(body, fileName, section)); break;
                case "DESCRIPTION": help.Description.AddRange(Paragraphs(body, fileName, section)); break;
                case "NOTES": help.Notes.AddRange(Paragraphs(body, fileName, section)); break;
                case "SYNTAX": ParseSyntax(body, help); break;
                case "EXAMPLES": ParseExamples(body, help, fileName); break;
                case "PARAMETERS": ParseParameters(body, help, fileName); break;
                case "INPUTS": help.Inputs.AddRange(ParseTypes(body, fileName, section)); break;
                case "OUTPUTS": help.Outputs.AddRange(ParseTypes(body, fileName, section)); break;
                case "RELATED LINKS": ParseLinks(body, help); break;
            }
        }

        if (help.Synopsis.Count == 0)
            throw new HelpFormatException(fileName, 0, $"{help.Name}: missing or empty '## SYNOPSIS' section.");
        return help;
    }

    // ---- sections -------------------------------------------------------------------------

    private static void ParseSyntax(List<Block> body, CommandHelp help)
    {
        help.SupportsShouldProcess = body.Any(b => b.Kind == BlockKind.Code && WhatIf().IsMatch(b.Text));
        foreach (var b in body.Where(b => b.Kind == BlockKind.Heading && b.Level == 3))
        {
            var text = b.Text.Trim();
            bool isDefault = text.EndsWith("(Default)", StringComparison.OrdinalIgnoreCase);
            if (isDefault) text = text[..^"(Default)".Length].Trim();
            if (text.Length == 0 || text.Equals("(All)", StringComparison.OrdinalIgnoreCase)) continue;
            help.SyntaxSetOrder.Add(text);
            if (isDefault) help.DefaultParameterSet = text;
        }
    }

    private static void ParseExamples(List<Block> body, CommandHelp help, string file)
    {
        foreach (var (heading, content) in SubSections(body, file, "EXAMPLES"))
        {
            var ex = new ExampleHelp { Title = heading.Text.Trim() };
            var codes = content.Where(c => c.Kind == BlockKind.Code).ToList();
            if (codes.Count == 0)
                throw new HelpFormatException(file, heading.Line, $"Example '{ex.Title}' has no code block.");
            ex.Code = codes[0].Text;
            foreach (var c in content)
            {
                if (ReferenceEquals(c, codes[0])) continue;
                if (c.Kind == BlockKind.Code) ex.Remarks.Add(c.Text);
                else if (c.Kind == BlockKind.Text) ex.Remarks.AddRange(SplitParagraph(c));
                else throw new HelpFormatException(file, c.Line, "Unexpected heading inside an example.");
            }
            help.Examples.Add(ex);
        }
    }

    private static void ParseParameters(List<Block> body, CommandHelp help, string file)
    {
        foreach (var (heading, content) in SubSections(body, file, "PARAMETERS"))
        {
            var title = heading.Text.Trim();
            if (title.Equals("CommonParameters", StringComparison.OrdinalIgnoreCase))
            {
                help.HasCommonParameters = true;
                continue;
            }
            if (!title.StartsWith('-') || title.Length < 2 || title.Contains(' '))
                throw new HelpFormatException(file, heading.Line, $"Parameter heading '### {title}' must be '### -Name' (or '### CommonParameters').");
            var p = new ParameterHelp { Name = title[1..] };
            if (help.Parameters.Any(x => x.Name.Equals(p.Name, StringComparison.OrdinalIgnoreCase)))
                throw new HelpFormatException(file, heading.Line, $"Parameter -{p.Name} is documented twice.");
            foreach (var c in content)
            {
                if (c.Kind == BlockKind.Code && c.Lang.Equals("yaml", StringComparison.OrdinalIgnoreCase))
                    p.Metadata.Add(ParseYaml(c, file, p.Name));
                else if (c.Kind == BlockKind.Text)
                    p.Description.AddRange(SplitParagraph(c));
                else if (c.Kind == BlockKind.Code)
                    p.Description.Add(c.Text);
                else
                    throw new HelpFormatException(file, c.Line, $"Unexpected heading inside parameter -{p.Name}.");
            }
            if (p.Metadata.Count == 0)
                throw new HelpFormatException(file, heading.Line, $"Parameter -{p.Name} has no ```yaml block (Type, Parameter Sets, Required, Position...).");
            if (p.Description.Count == 0)
                throw new HelpFormatException(file, heading.Line, $"Parameter -{p.Name} has no description.");
            help.Parameters.Add(p);
        }
    }

    private static ParameterMetadata ParseYaml(Block code, string file, string param)
    {
        var m = new ParameterMetadata();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var lines = code.Text.Split('\n');
        for (int k = 0; k < lines.Length; k++)
        {
            var line = lines[k].TrimEnd('\r');
            int lineNo = code.Line + 1 + k;
            if (line.Trim().Length == 0) continue;
            int colon = line.IndexOf(':');
            if (colon <= 0)
                throw new HelpFormatException(file, lineNo, $"Parameter -{param}: yaml line '{line.Trim()}' is not 'Key: Value'.");
            var key = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (!KnownYamlKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
                throw new HelpFormatException(file, lineNo, $"Parameter -{param}: unknown yaml key '{key}'.");
            seen.Add(key);
            switch (key.ToLowerInvariant())
            {
                case "type": m.Type = value; break;
                case "parameter sets":
                    m.ParameterSets.AddRange(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case "aliases": m.Aliases = value.Length == 0 ? "None" : value; break;
                case "required": m.Required = ParseBool(value, file, lineNo, param, key); break;
                case "position":
                    if (!value.Equals("Named", StringComparison.OrdinalIgnoreCase) && !int.TryParse(value, out _))
                        throw new HelpFormatException(file, lineNo, $"Parameter -{param}: Position must be 'Named' or a number, not '{value}'.");
                    m.Position = value.Equals("Named", StringComparison.OrdinalIgnoreCase) ? "Named" : value;
                    break;
                case "default value": m.DefaultValue = value.Length == 0 ? "None" : value; break;
                case "accept pipeline input":
                    if (!value.StartsWith("True", StringComparison.OrdinalIgnoreCase) && !value.StartsWith("False", StringComparison.OrdinalIgnoreCase))
                        throw new HelpFormatException(file, lineNo, $"Parameter -{param}: 'Accept pipeline input' must start with True or False, not '{value}'.");
                    m.PipelineInput = value;
                    break;
                case "accept wildcard characters": m.Globbing = ParseBool(value, file, lineNo, param, key); break;
                case "accepted values":
                    m.AcceptedValues.AddRange(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
            }
        }
        if (string.IsNullOrWhiteSpace(m.Type))
            throw new HelpFormatException(file, code.Line, $"Parameter -{param}: the yaml block has no 'Type'.");
        if (!seen.Contains("Parameter Sets"))
            throw new HelpFormatException(file, code.Line, $"Parameter -{param}: the yaml block has no 'Parameter Sets' (use '(All)').");
        return m;
    }

    private static bool ParseBool(string value, string file, int line, string param, string key) =>
        value.ToLowerInvariant() switch
        {
            "true" => true,
            "false" => false,
            _ => throw new HelpFormatException(file, line, $"Parameter -{param}: '{key}' must be True or False, not '{value}'."),
        };

    private static IEnumerable<TypeHelp> ParseTypes(List<Block> body, string file, string section)
    {
        foreach (var (heading, content) in SubSections(body, file, section))
        {
            var t = new TypeHelp { TypeName = heading.Text.Trim() };
            foreach (var c in content)
            {
                if (c.Kind == BlockKind.Heading)
                    throw new HelpFormatException(file, c.Line, $"Unexpected heading inside {section} type '{t.TypeName}'.");
                if (c.Kind == BlockKind.Code) t.Description.Add(c.Text);
                else t.Description.AddRange(SplitParagraph(c));
            }
            yield return t;
        }
    }

    private static void ParseLinks(List<Block> body, CommandHelp help)
    {
        foreach (var b in body.Where(b => b.Kind == BlockKind.Text))
        {
            foreach (var raw in b.Lines)
            {
                var line = raw.Trim().TrimStart('-', '*').Trim();
                if (line.Length == 0) continue;
                var m = MdLink().Match(line);
                if (!m.Success)
                {
                    help.RelatedLinks.Add(new LinkHelp { Text = line });
                    continue;
                }
                // Relative links (Get-KsctlCluster.md) help on GitHub but mean nothing to Get-Help -Online.
                var uri = m.Groups["uri"].Value.Trim();
                bool absolute = Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && (parsed.Scheme == "http" || parsed.Scheme == "https");
                help.RelatedLinks.Add(new LinkHelp { Text = m.Groups["text"].Value.Trim(), Uri = absolute ? uri : "" });
            }
        }
    }

    // ---- helpers ---------------------------------------------------------------------------

    /// <summary>Splits a section body into its '###' subsections; text before the first one is an error.</summary>
    private static List<(Block Heading, List<Block> Content)> SubSections(List<Block> body, string file, string section)
    {
        var result = new List<(Block, List<Block>)>();
        foreach (var b in body)
        {
            if (b.Kind == BlockKind.Heading && b.Level == 3)
                result.Add((b, new List<Block>()));
            else if (result.Count == 0)
                throw new HelpFormatException(file, b.Line, $"'## {section}' content must be under '###' headings.");
            else
                result[^1].Item2.Add(b);
        }
        return result;
    }

    private static IEnumerable<string> Paragraphs(List<Block> body, string file, string section)
    {
        foreach (var b in body)
        {
            switch (b.Kind)
            {
                case BlockKind.Text:
                    foreach (var p in SplitParagraph(b)) yield return p;
                    break;
                case BlockKind.Code:
                    yield return b.Text;
                    break;
                default:
                    throw new HelpFormatException(file, b.Line, $"Unexpected heading inside '## {section}'.");
            }
        }
    }

    /// <summary>Joins a markdown paragraph's lines with spaces, except that list items start new paragraphs.</summary>
    internal static IEnumerable<string> SplitParagraph(Block b)
    {
        var current = new List<string>();
        foreach (var raw in b.Lines)
        {
            var line = raw.Trim();
            if (ListItem().IsMatch(line) && current.Count > 0)
            {
                yield return string.Join(" ", current);
                current.Clear();
            }
            current.Add(line);
        }
        if (current.Count > 0) yield return string.Join(" ", current);
    }

    internal enum BlockKind { Heading, Text, Code }

    internal sealed class Block
    {
        public BlockKind Kind { get; init; }
        public int Line { get; init; }
        public int Level { get; init; }
        public string Text { get; set; } = "";
        public string Lang { get; init; } = "";
        public List<string> Lines { get; } = new();
    }

    internal static List<Block> Tokenize(string markdown, string file)
    {
        var lines = markdown.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        var blocks = new List<Block>();
        int i = 0;

        // Optional front matter.
        while (i < lines.Length && lines[i].Trim().Length == 0) i++;
        if (i < lines.Length && lines[i].Trim() == "---")
        {
            int open = i++;
            while (i < lines.Length && lines[i].Trim() != "---") i++;
            if (i == lines.Length)
                throw new HelpFormatException(file, open + 1, "Front matter opened with '---' is never closed.");
            i++;
        }

        Block? para = null;
        for (; i < lines.Length; i++)
        {
            var line = lines[i];
            var trimmed = line.Trim();
            if (trimmed.StartsWith("```"))
            {
                para = null;
                int open = i;
                var lang = trimmed[3..].Trim();
                var code = new List<string>();
                i++;
                while (i < lines.Length && lines[i].Trim() != "```") code.Add(lines[i++]);
                if (i == lines.Length)
                    throw new HelpFormatException(file, open + 1, "Code block opened with ``` is never closed.");
                blocks.Add(new Block { Kind = BlockKind.Code, Line = open + 1, Lang = lang, Text = string.Join("\n", code).TrimEnd() });
                // i now at the closing fence; the for loop skips it.
                continue;
            }
            var h = Heading().Match(line);
            if (h.Success)
            {
                para = null;
                blocks.Add(new Block { Kind = BlockKind.Heading, Line = i + 1, Level = h.Groups[1].Length, Text = h.Groups[2].Value.Trim() });
                continue;
            }
            if (trimmed.Length == 0 || trimmed.StartsWith("<!--"))
            {
                para = null;
                continue;
            }
            if (para == null)
            {
                para = new Block { Kind = BlockKind.Text, Line = i + 1 };
                blocks.Add(para);
            }
            para.Lines.Add(line);
        }
        return blocks;
    }

    [GeneratedRegex(@"^(#{1,6})\s+(.*?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^[A-Z][A-Za-z]+-[A-Za-z0-9]+$")]
    private static partial Regex VerbNoun();

    [GeneratedRegex(@"^\[(?<text>[^\]]*)\]\((?<uri>[^)]*)\)")]
    private static partial Regex MdLink();

    [GeneratedRegex(@"\[-(WhatIf|Confirm)\]", RegexOptions.IgnoreCase)]
    private static partial Regex WhatIf();

    [GeneratedRegex(@"^([-*+]\s|\d+\.\s)")]
    private static partial Regex ListItem();
}
