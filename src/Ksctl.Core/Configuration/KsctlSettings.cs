using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ksctl.Core.Configuration;

public enum StateStoreKind { File }

/// <summary>
/// Where Ksctl keeps things. <c>$KSCTL_HOME</c> (default <c>~/.ksctl</c>) holds <c>config.json</c>, <c>logs/</c> and,
/// unless configured elsewhere, <c>state/</c>.
/// </summary>
public sealed record KsctlSettings
{
    public const string HomeVariable = "KSCTL_HOME";
    public const string ConfigFileName = "config.json";

    public required string Home { get; init; }
    public StateStoreKind StateStore { get; init; } = StateStoreKind.File;
    /// <summary>Root folder of the file state store.</summary>
    public required string StatePath { get; init; }
    public string LogPath => Path.Combine(Home, "logs");
    public string ConfigPath => Path.Combine(Home, ConfigFileName);

    public static string DefaultHome()
    {
        var fromEnv = Environment.GetEnvironmentVariable(HomeVariable);
        return string.IsNullOrWhiteSpace(fromEnv)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ksctl")
            : Path.GetFullPath(fromEnv);
    }

    /// <summary>Reads <c>config.json</c> under the home folder; missing file means defaults.</summary>
    public static KsctlSettings Load(string? home = null)
    {
        home ??= DefaultHome();
        var defaults = new KsctlSettings { Home = home, StatePath = Path.Combine(home, "state") };
        var path = defaults.ConfigPath;
        if (!File.Exists(path)) return defaults;
        try
        {
            var stored = JsonSerializer.Deserialize<StoredConfig>(File.ReadAllBytes(path), JsonOptions);
            return defaults with
            {
                StateStore = stored?.StateStore ?? defaults.StateStore,
                StatePath = string.IsNullOrWhiteSpace(stored?.StatePath) ? defaults.StatePath : stored!.StatePath!,
            };
        }
        catch (JsonException ex)
        {
            throw new Diagnostics.KsctlException("KsctlConfigurationInvalid", Diagnostics.KsctlErrorCategory.InvalidData,
                $"The configuration file '{path}' is not valid JSON: {ex.Message}", path, ex);
        }
    }

    /// <summary>Writes <c>config.json</c> atomically (0600 on Unix).</summary>
    public void Save()
    {
        Storage.SecureFile.EnsureDirectory(Home);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new StoredConfig { StateStore = StateStore, StatePath = StatePath }, JsonOptions);
        Storage.SecureFile.WriteAtomic(ConfigPath, bytes);
    }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
    };

    private sealed class StoredConfig
    {
        public StateStoreKind? StateStore { get; set; }
        public string? StatePath { get; set; }
    }
}
