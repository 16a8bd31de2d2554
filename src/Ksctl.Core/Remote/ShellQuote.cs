namespace Ksctl.Core.Remote;

/// <summary>POSIX shell quoting.</summary>
internal static class ShellQuote
{
    /// <summary>Wraps a value in single quotes, escaping embedded single quotes, so the shell passes it verbatim.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "'\"'\"'", StringComparison.Ordinal) + "'";

    /// <summary>"0600"-style octal text of a Unix mode.</summary>
    public static string Octal(UnixFileMode mode) => Convert.ToString((int)mode & 0xFFF, 8).PadLeft(4, '0');
}
