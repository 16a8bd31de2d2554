using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace Ksctl.HelpGen;

/// <summary>
/// Writes the MAML help file (<c>&lt;Assembly&gt;.dll-Help.xml</c>) that Get-Help reads for
/// compiled cmdlets. Element names, namespaces and attribute spellings follow what platyPS emits.
/// </summary>
public static class MamlWriter
{
    public static readonly XNamespace Msh = "http://msh";
    public static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    public static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    public static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";
    public static readonly XNamespace MSHelp = "http://msdn.microsoft.com/mshelp";

    public static XDocument Build(IEnumerable<CommandHelp> commands)
    {
        var root = new XElement(Msh + "helpItems", new XAttribute("schema", "maml"));
        foreach (var c in commands) root.Add(BuildCommand(c));
        return new XDocument(new XDeclaration("1.0", "utf-8", null), root);
    }

    public static XElement BuildCommand(CommandHelp c)
    {
        var cmd = new XElement(Command + "command",
            new XAttribute(XNamespace.Xmlns + "maml", Maml),
            new XAttribute(XNamespace.Xmlns + "command", Command),
            new XAttribute(XNamespace.Xmlns + "dev", Dev),
            new XAttribute(XNamespace.Xmlns + "MSHelp", MSHelp),
            new XElement(Command + "details",
                new XElement(Command + "name", c.Name),
                new XElement(Command + "verb", c.Verb),
                new XElement(Command + "noun", c.Noun),
                Description(c.Synopsis)),
            Description(c.Description),
            Syntax(c),
            new XElement(Command + "parameters", AllParameters(c).Select(p => Parameter(p, p.Primary, forSyntax: false))),
            new XElement(Command + "inputTypes", c.Inputs.Select(t => TypeElement("inputType", t))),
            new XElement(Command + "returnValues", c.Outputs.Select(t => TypeElement("returnValue", t))),
            new XElement(Maml + "alertSet",
                new XElement(Maml + "alert", Paras(c.Notes))),
            new XElement(Command + "examples", c.Examples.Select(Example)),
            new XElement(Command + "relatedLinks", c.RelatedLinks.Select(l =>
                new XElement(Maml + "navigationLink",
                    new XElement(Maml + "linkText", l.Text),
                    new XElement(Maml + "uri", l.Uri)))));
        return cmd;
    }

    /// <summary>
    /// Parameter sets in display order: the SYNTAX section's order when it names them, then
    /// any others in order of first appearance; the default set first. Empty means "one set".
    /// </summary>
    public static List<string> ParameterSets(CommandHelp c)
    {
        var sets = new List<string>();
        void Add(string s)
        {
            if (!s.Equals("(All)", StringComparison.OrdinalIgnoreCase) && !sets.Contains(s, StringComparer.OrdinalIgnoreCase))
                sets.Add(s);
        }
        // Only trust SYNTAX headings that are real sets used by parameters.
        var used = c.Parameters.SelectMany(p => p.Metadata).SelectMany(m => m.ParameterSets).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var s in c.SyntaxSetOrder.Where(used.Contains)) Add(s);
        foreach (var s in c.Parameters.SelectMany(p => p.Metadata).SelectMany(m => m.ParameterSets)) Add(s);
        if (c.DefaultParameterSet is { } d && sets.Remove(d)) sets.Insert(0, d);
        return sets;
    }

    /// <summary>The documented parameters plus -WhatIf/-Confirm when the syntax shows them and the page does not document them.</summary>
    public static List<ParameterHelp> AllParameters(CommandHelp c)
    {
        var all = c.Parameters.ToList();
        if (!c.SupportsShouldProcess) return all;
        foreach (var (name, alias, text) in new[]
        {
            ("WhatIf", "wi", "Shows what would happen if the cmdlet runs. The cmdlet is not run."),
            ("Confirm", "cf", "Prompts you for confirmation before running the cmdlet."),
        })
        {
            if (all.Any(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase))) continue;
            var p = new ParameterHelp { Name = name };
            p.Description.Add(text);
            var m = new ParameterMetadata { Type = "SwitchParameter", Aliases = alias, DefaultValue = "False" };
            m.ParameterSets.Add("(All)");
            p.Metadata.Add(m);
            all.Add(p);
        }
        return all;
    }

    private static XElement Syntax(CommandHelp c)
    {
        var syntax = new XElement(Command + "syntax");
        var sets = ParameterSets(c);
        var parameters = AllParameters(c);
        if (sets.Count == 0)
        {
            syntax.Add(SyntaxItem(c.Name, parameters.Select(p => (p, p.Primary))));
            return syntax;
        }
        foreach (var set in sets)
        {
            var members = parameters
                .Select(p => (p, m: p.ForSet(set)))
                .Where(x => x.m != null)
                .Select(x => (x.p, x.m!));
            syntax.Add(SyntaxItem(c.Name, members));
        }
        return syntax;
    }

    private static XElement SyntaxItem(string name, IEnumerable<(ParameterHelp P, ParameterMetadata M)> parameters)
    {
        // Positional parameters first (by position), then the rest in page order, as Get-Command shows them.
        var ordered = parameters
            .Select((x, i) => (x.P, x.M, i))
            .OrderBy(x => int.TryParse(x.M.Position, out var pos) ? pos : int.MaxValue)
            .ThenBy(x => x.i);
        return new XElement(Command + "syntaxItem",
            new XElement(Maml + "name", name),
            ordered.Select(x => Parameter(x.P, x.M, forSyntax: true)));
    }

    private static XElement Parameter(ParameterHelp p, ParameterMetadata m, bool forSyntax)
    {
        var e = new XElement(Command + "parameter",
            new XAttribute("required", m.Required ? "true" : "false"),
            new XAttribute("variableLength", "true"),
            new XAttribute("globbing", m.Globbing ? "true" : "false"),
            new XAttribute("pipelineInput", m.PipelineInput),
            new XAttribute("position", m.Position.Equals("Named", StringComparison.OrdinalIgnoreCase) ? "named" : m.Position),
            new XAttribute("aliases", m.Aliases),
            new XElement(Maml + "name", p.Name),
            Description(p.Description));

        if (m.AcceptedValues.Count > 0)
        {
            e.Add(new XElement(Command + "parameterValueGroup",
                m.AcceptedValues.Select(v => new XElement(Command + "parameterValue",
                    new XAttribute("required", "false"),
                    new XAttribute("variableLength", "false"),
                    v))));
        }

        // Switches show no value in syntax ("[-Force]"); elsewhere their value is optional.
        if (!(forSyntax && p.IsSwitch) && !(forSyntax && m.AcceptedValues.Count > 0))
        {
            e.Add(new XElement(Command + "parameterValue",
                new XAttribute("required", p.IsSwitch ? "false" : "true"),
                new XAttribute("variableLength", "false"),
                m.Type));
        }

        e.Add(new XElement(Dev + "type",
                new XElement(Maml + "name", m.Type),
                new XElement(Maml + "uri")),
            new XElement(Dev + "defaultValue", m.DefaultValue));
        return e;
    }

    private static XElement TypeElement(string elementName, TypeHelp t) =>
        new(Command + elementName,
            new XElement(Dev + "type",
                new XElement(Maml + "name", t.TypeName)),
            Description(t.Description));

    private static XElement Example(ExampleHelp ex) =>
        new(Command + "example",
            new XElement(Maml + "title", $"-------------------------- {ex.Title} --------------------------"),
            new XElement(Dev + "code", ex.Code),
            new XElement(Dev + "remarks", Paras(ex.Remarks)));

    private static XElement Description(IEnumerable<string> paragraphs) =>
        new(Maml + "description", Paras(paragraphs));

    private static IEnumerable<XElement> Paras(IEnumerable<string> paragraphs)
    {
        var list = paragraphs.ToList();
        if (list.Count == 0) return new[] { new XElement(Maml + "para") };
        return list.Select(p => new XElement(Maml + "para", p));
    }

    public static string ToXmlString(XDocument doc)
    {
        var sb = new StringBuilder();
        var settings = new XmlWriterSettings { Indent = true, IndentChars = "  ", Encoding = new UTF8Encoding(false), OmitXmlDeclaration = false };
        using (var sw = new Utf8StringWriter(sb))
        using (var w = XmlWriter.Create(sw, settings))
            doc.Save(w);
        return sb.ToString();
    }

    public static void Save(XDocument doc, string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllText(path, ToXmlString(doc) + Environment.NewLine, new UTF8Encoding(false));
    }

    private sealed class Utf8StringWriter(StringBuilder sb) : StringWriter(sb)
    {
        public override Encoding Encoding => Encoding.UTF8;
    }
}
