namespace Ksctl.PowerShell.Models;

/// <summary>Where Ksctl keeps its configuration, state and logs. Never holds a secret.</summary>
public sealed class KsctlConfiguration
{
    /// <summary>$env:KSCTL_HOME, or ~/.ksctl.</summary>
    public string Home { get; init; } = "";
    /// <summary>The state store kind (File or AzureBlob).</summary>
    public string StateStore { get; init; } = "";
    public string StatePath { get; init; } = "";
    /// <summary>AzureBlob: the storage account (or container) Uri, without any SAS query.</summary>
    public string? StorageAccountUri { get; init; }
    /// <summary>AzureBlob: the container.</summary>
    public string? Container { get; init; }
    /// <summary>AzureBlob: how Ksctl signs in (connection string from the environment or encrypted in config.json, SAS, Azure identity). Never the secret.</summary>
    public string? Authentication { get; init; }
    /// <summary>The state key file, when one is configured (else KSCTL_STATE_KEY / KSCTL_STATE_KEY_FILE apply).</summary>
    public string? StateKeyPath { get; init; }
    /// <summary>KSCTL_STATE_* variables that override config.json in this session.</summary>
    public string[] EnvironmentOverrides { get; init; } = [];
    public string LogPath { get; init; } = "";
    /// <summary>The configuration file (config.json under Home).</summary>
    public string ConfigPath { get; init; } = "";
}
