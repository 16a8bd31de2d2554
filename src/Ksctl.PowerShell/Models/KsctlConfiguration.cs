namespace Ksctl.PowerShell.Models;

/// <summary>Where Ksctl keeps its configuration, state and logs.</summary>
public sealed class KsctlConfiguration
{
    /// <summary>$env:KSCTL_HOME, or ~/.ksctl.</summary>
    public string Home { get; init; } = "";
    /// <summary>The state store kind (File).</summary>
    public string StateStore { get; init; } = "";
    public string StatePath { get; init; } = "";
    public string LogPath { get; init; } = "";
    /// <summary>The configuration file (config.json under Home).</summary>
    public string ConfigPath { get; init; } = "";
}
