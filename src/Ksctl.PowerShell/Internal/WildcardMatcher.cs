using System.Text;
using System.Text.RegularExpressions;

namespace Ksctl.PowerShell.Internal;

/// <summary>
/// PowerShell wildcards (*, ?, [abc], [a-z], backtick escapes; case-insensitive) compiled once into one regular
/// expression: listing thousands of clusters calls it once per cluster folder.
/// </summary>
internal static class WildcardMatcher
{
    public static Regex? Create(IEnumerable<string> patterns)
    {
        var alternatives = patterns.Select(ToRegex).ToList();
        if (alternatives.Count == 0) return null;
        return new Regex("^(?:" + string.Join("|", alternatives) + ")$",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Singleline | RegexOptions.Compiled);
    }

    internal static string ToRegex(string pattern)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '`' when i + 1 < pattern.Length:
                    sb.Append(Regex.Escape(pattern[++i].ToString()));
                    break;
                case '*':
                    sb.Append(".*");
                    break;
                case '?':
                    sb.Append('.');
                    break;
                case '[':
                    var end = pattern.IndexOf(']', i + 1);
                    if (end < 0) { sb.Append(@"\["); break; }
                    var set = pattern.Substring(i + 1, end - i - 1);
                    sb.Append('[').Append(set.Replace(@"\", @"\\").Replace("^", @"\^").Replace("[", @"\[")).Append(']');
                    i = end;
                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }
        return sb.ToString();
    }
}
