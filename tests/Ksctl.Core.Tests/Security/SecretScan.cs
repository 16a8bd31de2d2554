using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Tests.Security;

/// <summary>
/// Looks for secret material in text a user or an operator can see: every secret is cut into its significant lines
/// (PEM armour and short lines left out) and each must be absent from every place scanned.
/// </summary>
internal sealed class SecretScan
{
    private readonly HashSet<string> _needles = new(StringComparer.Ordinal);

    private static readonly string[] SensitiveKeys = ["client-key-data", "client-certificate-data", "token", "password"];

    public void Add(string secret)
    {
        if (secret.Contains("apiVersion:", StringComparison.Ordinal))
        {
            // A kubeconfig: its names and server are not secret; its credentials are.
            foreach (var line in secret.Split('\n'))
            {
                var colon = line.IndexOf(": ", StringComparison.Ordinal);
                if (colon > 0 && SensitiveKeys.Contains(line[..colon].Trim()) && line.Length - colon - 2 >= 8) _needles.Add(line[(colon + 2)..].Trim());
            }
            return;
        }
        foreach (var line in secret.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (line.Length >= 12 && !line.StartsWith("-----", StringComparison.Ordinal))
                _needles.Add(line);
    }

    public int Count => _needles.Count;

    /// <summary>The places (name: first needle found) where a secret shows.</summary>
    public IEnumerable<string> Findings(IEnumerable<(string Place, string Text)> places) =>
        from p in places
        from n in _needles
        where p.Text.Contains(n, StringComparison.Ordinal)
        select $"{p.Place}: {n[..Math.Min(24, n.Length)]}…";

    public static IEnumerable<(string, string)> Events(EventSink sink) =>
        sink.Events.Select((e, i) => ($"event #{i} ({e.Level} {e.Component})", $"{e.Message} {e.Step} {e.Cluster}"));

    public static IEnumerable<(string, string)> Files(string folder) =>
        Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Select(f => (f, File.ReadAllText(f)))
            : [];

    public static (string, string) Error(Exception ex) => ($"error {(ex as KsctlException)?.ErrorId}", ex.ToString());
}
