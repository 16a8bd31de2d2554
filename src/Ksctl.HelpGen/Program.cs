namespace Ksctl.HelpGen;

public static class Program
{
    public const string Usage = "usage: Ksctl.HelpGen <docs/help folder> <output MAML xml path>";

    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Exit codes: 0 success, 1 a page is malformed, 2 bad command line.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 1 && args[0] is "-h" or "--help" or "/?")
        {
            stdout.WriteLine(Usage);
            return 0;
        }
        if (args.Length != 2)
        {
            stderr.WriteLine(Usage);
            return 2;
        }
        var (folder, output) = (args[0], args[1]);
        if (!Directory.Exists(folder))
        {
            stderr.WriteLine($"Ksctl.HelpGen: help folder '{folder}' does not exist.");
            return 2;
        }
        var files = Directory.GetFiles(folder, "*.md").OrderBy(f => Path.GetFileName(f), StringComparer.OrdinalIgnoreCase).ToList();
        if (files.Count == 0)
        {
            stderr.WriteLine($"Ksctl.HelpGen: no *.md pages in '{folder}'.");
            return 1;
        }

        var commands = new List<CommandHelp>();
        var errors = 0;
        foreach (var f in files)
        {
            try
            {
                var c = MarkdownHelpParser.ParseFile(f);
                var expected = Path.GetFileNameWithoutExtension(f);
                if (!c.Name.Equals(expected, StringComparison.OrdinalIgnoreCase))
                    throw new HelpFormatException(Path.GetFileName(f), 0, $"The title '# {c.Name}' does not match the file name '{expected}'.");
                if (commands.Any(x => x.Name.Equals(c.Name, StringComparison.OrdinalIgnoreCase)))
                    throw new HelpFormatException(Path.GetFileName(f), 0, $"{c.Name} is documented twice.");
                commands.Add(c);
            }
            catch (HelpFormatException ex)
            {
                stderr.WriteLine($"error: {ex.Message}");
                errors++;
            }
        }
        if (errors > 0)
        {
            stderr.WriteLine($"Ksctl.HelpGen: {errors} malformed page(s); '{output}' was not written.");
            return 1;
        }

        MamlWriter.Save(MamlWriter.Build(commands), output);
        stdout.WriteLine($"Ksctl.HelpGen: wrote {commands.Count} command(s) to {output}");
        return 0;
    }
}
