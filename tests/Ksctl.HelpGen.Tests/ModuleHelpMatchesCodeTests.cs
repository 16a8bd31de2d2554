using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;
using System.Text.RegularExpressions;
using Ksctl.HelpGen;
using Xunit;
using CmdletParameter = System.Management.Automation.ParameterMetadata;

namespace Ksctl.HelpGen.Tests;

/// <summary>
/// Help that cannot drift: every exported cmdlet of the built module has a docs/help page whose parameters, types,
/// Required, Position, pipeline input, aliases, accepted values and parameter sets are those of the compiled cmdlet,
/// and about_Ksctl names every cmdlet and every error id the sources raise. A cmdlet or parameter added later fails
/// here until its page (and about_Ksctl line) is written — that is the point.
/// </summary>
public sealed class ModuleHelpMatchesCodeTests
{
    private static readonly Lazy<Runspace> Session = new(OpenSession);
    private static readonly Lazy<IReadOnlyList<CmdletInfo>> Commands = new(LoadCommands);
    private static readonly HashSet<string> Common = new(StringComparer.OrdinalIgnoreCase)
    {
        "Verbose", "Debug", "ErrorAction", "WarningAction", "InformationAction", "ProgressAction", "ErrorVariable", "WarningVariable",
        "InformationVariable", "OutVariable", "OutBuffer", "PipelineVariable", "WhatIf", "Confirm",
    };

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Directory.Build.props")) && Directory.Exists(Path.Combine(dir.FullName, "docs", "help"))) return dir.FullName;
        throw new DirectoryNotFoundException("repository root not found above " + AppContext.BaseDirectory);
    }

    private static string ModuleDir() =>
        typeof(ModuleHelpMatchesCodeTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "KsctlModuleOutputDir")?.Value is { Length: > 0 } d
            ? d
            : Path.Combine(RepoRoot(), "out", "Ksctl");

    private static Runspace OpenSession()
    {
        Environment.SetEnvironmentVariable("POWERSHELL_TELEMETRY_OPTOUT", "1");
        var iss = InitialSessionState.CreateDefault2();
        iss.ImportPSModule(Path.Combine(ModuleDir(), "Ksctl.psd1"));
        iss.ThrowOnRunspaceOpenError = true;
        var runspace = RunspaceFactory.CreateRunspace(iss);
        runspace.Open();
        return runspace;
    }

    private static IReadOnlyList<CmdletInfo> LoadCommands()
    {
        using var ps = PowerShell.Create(Session.Value);
        var list = ps.AddScript("Get-Command -Module Ksctl").Invoke().Select(o => o.BaseObject).OfType<CmdletInfo>().ToList();
        Assert.NotEmpty(list);
        return list;
    }

    public static TheoryData<string> CmdletNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in Commands.Value) data.Add(c.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Page_matches_the_compiled_cmdlet(string name)
    {
        var cmdlet = Commands.Value.Single(c => c.Name == name);
        var file = Path.Combine(RepoRoot(), "docs", "help", name + ".md");
        Assert.True(File.Exists(file), $"{name} has no help page docs/help/{name}.md");
        var page = MarkdownHelpParser.ParseFile(file);
        var problems = new List<string>();

        var parameters = cmdlet.Parameters.Values.Where(p => !Common.Contains(p.Name)).ToList();
        foreach (var missing in parameters.Select(p => p.Name).Except(page.Parameters.Select(p => p.Name), StringComparer.OrdinalIgnoreCase))
            problems.Add($"-{missing} is not documented");
        foreach (var extra in page.Parameters.Select(p => p.Name).Except(parameters.Select(p => p.Name), StringComparer.OrdinalIgnoreCase))
            problems.Add($"-{extra} is documented but the cmdlet has no such parameter");

        var sets = cmdlet.ParameterSets.Select(s => s.Name).Where(s => s != "__AllParameterSets").ToList();
        if (sets.Count > 1)
        {
            if (!sets.Order().SequenceEqual(page.SyntaxSetOrder.Order()))
                problems.Add($"SYNTAX shows sets [{string.Join(", ", page.SyntaxSetOrder)}], the cmdlet has [{string.Join(", ", sets)}]");
            var defaultSet = cmdlet.ParameterSets.SingleOrDefault(s => s.IsDefault)?.Name;
            if (defaultSet is not null && !string.Equals(page.DefaultParameterSet, defaultSet, StringComparison.Ordinal))
                problems.Add($"SYNTAX marks '{page.DefaultParameterSet}' as default, the cmdlet's default set is '{defaultSet}'");
        }

        foreach (var p in parameters)
        {
            var doc = page.Parameters.FirstOrDefault(d => d.Name.Equals(p.Name, StringComparison.OrdinalIgnoreCase));
            if (doc is null) continue;
            problems.AddRange(CompareParameter(cmdlet, p, doc, sets));
        }
        Assert.True(problems.Count == 0, $"{name} ({file}):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", problems));
    }

    private static IEnumerable<string> CompareParameter(CmdletInfo cmdlet, CmdletParameter p, ParameterHelp doc, List<string> cmdletSets)
    {
        var prefix = $"-{p.Name}:";
        var type = TypeName(p.ParameterType);
        foreach (var m in doc.Metadata)
            if (!string.Equals(ShortType(m.Type), type, StringComparison.OrdinalIgnoreCase))
                yield return $"{prefix} page says Type {m.Type}, the parameter is {type}";

        var aliases = p.Aliases.Order(StringComparer.OrdinalIgnoreCase).ToList();
        foreach (var m in doc.Metadata)
        {
            var documented = m.Aliases == "None" ? [] : m.Aliases.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.OrdinalIgnoreCase).ToList();
            if (!documented.SequenceEqual(aliases, StringComparer.OrdinalIgnoreCase))
                yield return $"{prefix} page says Aliases {m.Aliases}, the parameter has {(aliases.Count == 0 ? "None" : string.Join(", ", aliases))}";
        }

        var validateSet = p.Attributes.OfType<ValidateSetAttribute>().FirstOrDefault()?.ValidValues.ToList();
        var accepted = validateSet ?? (p.Attributes.Any(a => a.GetType().Name == "ValidateProviderAttribute") ? Completions(cmdlet.Name, p.Name) : null);
        foreach (var m in doc.Metadata)
        {
            if (accepted is null && m.AcceptedValues.Count > 0) yield return $"{prefix} page lists Accepted values, the parameter accepts any value";
            if (accepted is not null && !m.AcceptedValues.Order(StringComparer.OrdinalIgnoreCase).SequenceEqual(accepted.Order(StringComparer.OrdinalIgnoreCase), StringComparer.OrdinalIgnoreCase))
                yield return $"{prefix} page says Accepted values {string.Join(", ", m.AcceptedValues)}, the cmdlet accepts {string.Join(", ", accepted)}";
        }

        var globbing = p.Attributes.OfType<SupportsWildcardsAttribute>().Any();
        foreach (var m in doc.Metadata)
            if (m.Globbing != globbing) yield return $"{prefix} page says Accept wildcard characters {m.Globbing}, the parameter {(globbing ? "supports" : "does not support")} them";

        // Per parameter set: the block that documents the set must say what the set's metadata says.
        var inAll = p.ParameterSets.ContainsKey("__AllParameterSets");
        var paramSets = inAll ? (cmdletSets.Count == 0 ? ["__AllParameterSets"] : cmdletSets) : p.ParameterSets.Keys.ToList();
        if (inAll && !doc.Metadata.All(m => m.IsInAllSets)) yield return $"{prefix} is in every parameter set; the page must say 'Parameter Sets: (All)'";
        if (!inAll)
        {
            var documented = doc.Metadata.SelectMany(m => m.ParameterSets).ToList();
            if (documented.Any(s => s.Equals("(All)", StringComparison.OrdinalIgnoreCase)) || !documented.Order().SequenceEqual(paramSets.Order()))
                yield return $"{prefix} page says Parameter Sets {string.Join(", ", documented)}, the parameter is in {string.Join(", ", paramSets)}";
        }
        foreach (var set in paramSets)
        {
            var m = set == "__AllParameterSets" ? doc.Metadata[0] : doc.ForSet(set);
            if (m is null) continue;
            var data = p.ParameterSets.TryGetValue(set, out var d) ? d : p.ParameterSets["__AllParameterSets"];
            if (m.Required != data.IsMandatory) yield return $"{prefix} in set {set} page says Required {m.Required}, the parameter is {(data.IsMandatory ? "mandatory" : "optional")}";
            var position = data.Position == int.MinValue ? "Named" : data.Position.ToString();
            if (!string.Equals(m.Position, position, StringComparison.OrdinalIgnoreCase)) yield return $"{prefix} in set {set} page says Position {m.Position}, the parameter's is {position}";
            var pipeline = Pipeline(data);
            if (!string.Equals(Normalize(m.PipelineInput), pipeline, StringComparison.OrdinalIgnoreCase))
                yield return $"{prefix} in set {set} page says Accept pipeline input {m.PipelineInput}, the parameter's is {pipeline}";
        }
    }

    private static string Pipeline(ParameterSetMetadata d) => (d.ValueFromPipeline, d.ValueFromPipelineByPropertyName) switch
    {
        (true, true) => "True (ByValue, ByPropertyName)",
        (true, false) => "True (ByValue)",
        (false, true) => "True (ByPropertyName)",
        _ => "False",
    };

    private static string Normalize(string value) => Regex.Replace(value.Trim(), @"\s+", " ");

    private static string TypeName(Type t) => t.IsArray ? TypeName(t.GetElementType()!) + "[]" : t.Name;

    private static string ShortType(string documented)
    {
        var t = documented.Trim();
        var array = t.EndsWith("[]", StringComparison.Ordinal);
        var core = array ? t[..^2] : t;
        core = core.Contains('.') ? core[(core.LastIndexOf('.') + 1)..] : core;
        return array ? core + "[]" : core;
    }

    private static List<string> Completions(string cmdlet, string parameter)
    {
        using var ps = PowerShell.Create(Session.Value);
        var input = $"{cmdlet} -{parameter} ";
        var result = CommandCompletion.CompleteInput(input, input.Length, null, ps);
        return result.CompletionMatches.Select(c => c.ListItemText).ToList();
    }

    [Fact]
    public void About_Ksctl_names_every_cmdlet()
    {
        var about = File.ReadAllText(Path.Combine(RepoRoot(), "module", "en-US", "about_Ksctl.help.txt"));
        var missing = Commands.Value.Select(c => c.Name).Where(n => !Regex.IsMatch(about, $@"(?<![\w-]){Regex.Escape(n)}(?![\w-])")).ToList();
        Assert.True(missing.Count == 0, "about_Ksctl does not mention: " + string.Join(", ", missing));
    }

    [Fact]
    public void About_Ksctl_lists_every_error_id_raised_in_src()
    {
        var about = File.ReadAllText(Path.Combine(RepoRoot(), "module", "en-US", "about_Ksctl.help.txt"));
        var ids = ErrorIds();
        Assert.Contains("KsctlClusterNotFound", ids);
        Assert.Contains("KsctlInvalidSpec", ids);
        var missing = ids.Where(id => !Regex.IsMatch(about, $@"\b{id}\b")).ToList();
        Assert.True(missing.Count == 0, "about_Ksctl's ERROR IDS section does not list: " + string.Join(", ", missing));
    }

    /// <summary>
    /// Every "Ksctl…" string literal in src/**/*.cs that is an error id: a literal passed as an argument (KsctlException,
    /// ErrorRecord, Fail(…)) or assigned to a name that says it is an error id; not a cmdlet noun ([Cmdlet(…, "KsctlX")]) and
    /// not another named constant (a job type name, a load-context name).
    /// </summary>
    internal static SortedSet<string> ErrorIds()
    {
        var ids = new SortedSet<string>(StringComparer.Ordinal);
        var literal = new Regex(@"(?<before>.{0,40})""(?<id>Ksctl[A-Z][A-Za-z]+)""");
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepoRoot(), "src"), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")) continue;
            foreach (var line in File.ReadLines(file))
            {
                if (line.Contains("[Cmdlet(", StringComparison.Ordinal)) continue;
                foreach (Match m in literal.Matches(line))
                {
                    var before = m.Groups["before"].Value.TrimEnd();
                    if (before.EndsWith('=') && !Regex.IsMatch(before, @"Error\w*\s*=$|Id\s*=$")) continue;
                    ids.Add(m.Groups["id"].Value);
                }
            }
        }
        return ids;
    }
}
