namespace Ksctl.Core.Remote;

/// <summary>Replaces known secret values with "***" in any text that may reach a message or a log.</summary>
internal sealed class SecretRedactor
{
    public const string Mask = "***";
    private readonly string[] _secrets;

    public SecretRedactor(params IEnumerable<string>?[] secretLists)
    {
        _secrets = secretLists
            .Where(l => l is not null)
            .SelectMany(l => l!)
            // Very short values would mask innocent text and protect nothing.
            .Where(s => !string.IsNullOrEmpty(s) && s.Length >= 4)
            .Distinct(StringComparer.Ordinal)
            .OrderByDescending(s => s.Length) // longest first, so a secret containing another is masked whole
            .ToArray();
    }

    public SecretRedactor With(IEnumerable<string>? more) => new(_secrets, more);

    public string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        foreach (var s in _secrets)
        {
            if (text.Contains(s, StringComparison.Ordinal)) text = text.Replace(s, Mask, StringComparison.Ordinal);
        }
        return text;
    }
}
