using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Storage.Protection;

namespace Ksctl.Core.Configuration;

public enum StateStoreKind { File, AzureBlob }

/// <summary>
/// Where Ksctl keeps things. <c>$KSCTL_HOME</c> (default <c>~/.ksctl</c>) holds <c>config.json</c>, <c>logs/</c> and,
/// unless configured elsewhere, <c>state/</c>. Runbooks override the state store with <c>KSCTL_STATE_*</c> variables.
/// </summary>
/// <remarks>
/// A connection string holds an account key, so it is never written to config.json in plaintext: either it comes from
/// <c>KSCTL_STATE_CONNECTION_STRING</c> (never saved), or Set-KsctlConfiguration encrypts it with the state key
/// (AES-GCM, the key the shared store uses for cluster secrets) and saves only the ciphertext
/// (<see cref="ProtectedConnectionString"/>); it is decrypted when the store is built.
/// </remarks>
public sealed partial record KsctlSettings
{
    public const string HomeVariable = "KSCTL_HOME";
    public const string ConfigFileName = "config.json";
    public const string StoreVariable = "KSCTL_STATE_STORE";
    public const string AccountUriVariable = "KSCTL_STATE_ACCOUNT_URI";
    public const string ContainerVariable = "KSCTL_STATE_CONTAINER";
    public const string ConnectionStringVariable = "KSCTL_STATE_CONNECTION_STRING";
    /// <summary>The associated data of a protected connection string.</summary>
    public const string ConnectionStringPurpose = "ksctl-config:connectionString";

    public required string Home { get; init; }
    public StateStoreKind StateStore { get; init; } = StateStoreKind.File;
    /// <summary>Root folder of the file state store.</summary>
    public required string StatePath { get; init; }
    /// <summary>AzureBlob: <c>https://account.blob.core.windows.net</c> (signed in with an Azure identity).</summary>
    public string? StorageAccountUri { get; init; }
    /// <summary>AzureBlob: the container (created if absent).</summary>
    public string? Container { get; init; }
    /// <summary>AzureBlob: a connection string from <c>KSCTL_STATE_CONNECTION_STRING</c>. Never saved.</summary>
    public string? ConnectionString { get; init; }
    /// <summary>AzureBlob: a connection string encrypted with the state key, as saved in config.json.</summary>
    public string? ProtectedConnectionString { get; init; }
    /// <summary>A file holding the state key; else KSCTL_STATE_KEY / KSCTL_STATE_KEY_FILE.</summary>
    public string? StateKeyPath { get; init; }
    /// <summary>The environment variables that overrode config.json in this instance.</summary>
    public IReadOnlyList<string> EnvironmentOverrides { get; init; } = [];

    public string LogPath => Path.Combine(Home, "logs");
    public string ConfigPath => Path.Combine(Home, ConfigFileName);

    /// <summary>Where an AzureBlob store's connection comes from, for display (never the secret itself).</summary>
    public string? StoreAuthentication => StateStore != StateStoreKind.AzureBlob ? null
        : ConnectionString is not null ? $"ConnectionString ({ConnectionStringVariable})"
        : ProtectedConnectionString is not null ? "ConnectionString (encrypted in config.json)"
        : StorageAccountUri is { } u && u.Contains("sig=", StringComparison.OrdinalIgnoreCase) ? "SAS in StorageAccountUri"
        : "Azure identity (DefaultAzureCredential)";

    /// <summary>Never prints the connection string.</summary>
    public override string ToString() => $"KsctlSettings {{ Home = {Home}, StateStore = {StateStore} }}";

    public static string DefaultHome()
    {
        var fromEnv = Environment.GetEnvironmentVariable(HomeVariable);
        return string.IsNullOrWhiteSpace(fromEnv)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ksctl")
            : Path.GetFullPath(fromEnv);
    }

    /// <summary>Reads <c>config.json</c> under the home folder (missing file: defaults), then applies the <c>KSCTL_STATE_*</c> variables.</summary>
    public static KsctlSettings Load(string? home = null) => LoadFile(home).WithEnvironment();

    /// <summary>Only <c>config.json</c> (what Set-KsctlConfiguration edits and saves).</summary>
    public static KsctlSettings LoadFile(string? home = null)
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
                StorageAccountUri = Blank(stored?.StorageAccountUri),
                Container = Blank(stored?.Container),
                ProtectedConnectionString = Blank(stored?.ConnectionStringProtected),
                StateKeyPath = Blank(stored?.StateKeyPath),
            };
        }
        catch (JsonException ex)
        {
            throw new KsctlException("KsctlConfigurationInvalid", KsctlErrorCategory.InvalidData,
                $"The configuration file '{path}' is not valid JSON: {ex.Message}", path, ex);
        }
    }

    /// <summary>These settings with <c>KSCTL_STATE_STORE</c>, <c>_ACCOUNT_URI</c>, <c>_CONTAINER</c>, <c>_CONNECTION_STRING</c> applied.</summary>
    public KsctlSettings WithEnvironment()
    {
        var result = this;
        var overrides = new List<string>();
        if (Env(StoreVariable) is { } store)
        {
            if (!Enum.TryParse<StateStoreKind>(store, ignoreCase: true, out var kind) || !Enum.IsDefined(kind))
                throw new KsctlException("KsctlConfigurationInvalid", KsctlErrorCategory.InvalidData,
                    $"{StoreVariable} is '{store}'; use {string.Join(" or ", Enum.GetNames<StateStoreKind>())}.", StoreVariable);
            result = result with { StateStore = kind };
            overrides.Add(StoreVariable);
        }
        if (Env(AccountUriVariable) is { } uri) { result = result with { StorageAccountUri = uri }; overrides.Add(AccountUriVariable); }
        if (Env(ContainerVariable) is { } container) { result = result with { Container = container }; overrides.Add(ContainerVariable); }
        if (Env(ConnectionStringVariable) is { } cs) { result = result with { ConnectionString = cs }; overrides.Add(ConnectionStringVariable); }
        return overrides.Count == 0 ? result : result with { EnvironmentOverrides = overrides };
    }

    /// <summary>
    /// Why <paramref name="uri"/> must not be saved as the storage account Uri, or null: a SAS token in its query is a
    /// bearer secret, and config.json keeps the Uri in plaintext. Ksctl refuses it (a SAS goes into an encrypted
    /// connection string instead).
    /// </summary>
    public static string? StoredAccountUriProblem(string? uri)
    {
        if (uri is null || !Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || parsed.Query.Length <= 1) return null;
        return parsed.Query.Contains("sig=", StringComparison.OrdinalIgnoreCase)
            ? "it carries a SAS token (sig=...), a secret that config.json would keep in plaintext; give the SAS as -ConnectionString " +
              "'BlobEndpoint=https://<account>.blob.core.windows.net;SharedAccessSignature=<sas>' (saved encrypted with the state key), or use an Azure identity without a SAS"
            : "it has a query string; give the account or container Uri alone";
    }

    /// <summary>Writes <c>config.json</c> atomically (0600 on Unix). The plaintext <see cref="ConnectionString"/> is never written.</summary>
    public void Save()
    {
        if (StoredAccountUriProblem(StorageAccountUri) is { } problem) throw new InvalidSpecException("StorageAccountUri", problem + ".");
        Storage.SecureFile.EnsureDirectory(Home);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new StoredConfig
        {
            StateStore = StateStore,
            StatePath = StatePath,
            StorageAccountUri = StorageAccountUri,
            Container = Container,
            ConnectionStringProtected = ProtectedConnectionString,
            StateKeyPath = StateKeyPath,
        }, JsonOptions);
        Storage.SecureFile.WriteAtomic(ConfigPath, bytes);
    }

    /// <summary>The state key these settings name (<see cref="StateKeyPath"/>, else the environment); null when none.</summary>
    public ISecretProtector? ResolveStateKey() => StateKey.Resolve(StateKeyPath);

    /// <summary>Encrypts a connection string for config.json; needs a state key.</summary>
    public string ProtectConnectionString(string connectionString)
    {
        var protector = ResolveStateKey() ?? throw new StateKeyMissingException("the connection string in config.json");
        return protector.Protect(connectionString, ConnectionStringPurpose);
    }

    /// <summary>The connection string to use: the environment's, else the decrypted one from config.json; null when neither.</summary>
    public string? ResolveConnectionString()
    {
        if (ConnectionString is not null) return ConnectionString;
        if (ProtectedConnectionString is null) return null;
        var protector = ResolveStateKey() ?? throw new StateKeyMissingException($"{ConfigPath} (connectionStringProtected)");
        return protector.Unprotect(ProtectedConnectionString, ConnectionStringPurpose);
    }

    /// <summary>Azure container naming rules: 3-63 characters, lowercase letters, digits and single hyphens, starting and ending alphanumeric.</summary>
    public static bool IsValidContainerName(string? name) =>
        name is { Length: >= 3 and <= 63 } && ContainerRule().IsMatch(name) && !name.Contains("--", StringComparison.Ordinal);

    public const string ContainerNameRule = "3-63 characters: lowercase letters, digits and single hyphens, starting and ending with a letter or digit";

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\\z")]
    private static partial Regex ContainerRule();

    private static string? Env(string name) => Blank(Environment.GetEnvironmentVariable(name));
    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    private sealed class StoredConfig
    {
        public StateStoreKind? StateStore { get; set; }
        public string? StatePath { get; set; }
        public string? StorageAccountUri { get; set; }
        public string? Container { get; set; }
        public string? ConnectionStringProtected { get; set; }
        public string? StateKeyPath { get; set; }
    }
}
