using Ksctl.Core.Configuration;

namespace Ksctl.Civo.Tests;

/// <summary>
/// The process environment of a Civo test: every CIVO_* variable the host has is cleared (a developer's real key or
/// endpoint must never be read or reached), then the test's own are set; all are restored afterwards.
/// </summary>
public sealed class CivoTestEnvironment : IDisposable
{
    private readonly Dictionary<string, string?> _saved = new(StringComparer.Ordinal);

    public CivoTestEnvironment(string home, string apiUrl, string? token = "good-key")
    {
        foreach (var name in Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(n => n.StartsWith("CIVO_", StringComparison.OrdinalIgnoreCase)).ToList())
            Set(name, null);
        Set(KsctlSettings.HomeVariable, home);
        Set("CIVO_API_URL", apiUrl);
        Set("CIVO_TOKEN", token);
    }

    public void Set(string name, string? value)
    {
        if (!_saved.ContainsKey(name)) _saved[name] = Environment.GetEnvironmentVariable(name);
        Environment.SetEnvironmentVariable(name, value);
    }

    public void Dispose()
    {
        foreach (var (name, value) in _saved) Environment.SetEnvironmentVariable(name, value);
    }
}
