using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Storage.Credentials;

namespace Ksctl.Core.Providers.Gcp;

/// <summary>Which way the GCP credential was found (verbose output; never the key).</summary>
internal enum GcpCredentialSource { Parameter, Stored, Environment, ApplicationDefault }

/// <summary>A token source for Compute/GKE, the project (null: none found yet) and where they came from.</summary>
internal sealed record GcpSignIn(Func<CancellationToken, Task<string>> Token, string? Project, GcpCredentialSource Source, string? Account)
{
    /// <summary>When the token last handed out expires, as the token answer said (null: unknown, or none yet).</summary>
    public Func<DateTimeOffset?> Expiry { get; init; } = () => null;

    public override string ToString() => $"{Source} credential{(Account is null ? "" : $" for {Account}")}";
}

/// <summary>
/// Finds the GCP credential, first match wins: -CredentialPath (a service-account key file), the stored credential
/// (Set-KsctlCredential -Provider Gcp -Path key.json: the key file's JSON, encrypted like every stored secret), the file
/// named by GOOGLE_APPLICATION_CREDENTIALS, then Application Default Credentials (gcloud's user credentials, workload
/// identity federation, the metadata server). The project: -Project, else the key file's project_id, else
/// GOOGLE_CLOUD_PROJECT. Service-account keys sign a JWT-bearer assertion (Google.Apis.Auth) sent to
/// <see cref="GcpEndpoints.TokenUrl"/>: the key file's own token_uri is not followed (a file must not choose where
/// Ksctl sends signed assertions).
/// </summary>
internal static class GcpCredentials
{
    public const string CredentialsVariable = "GOOGLE_APPLICATION_CREDENTIALS";
    public const string ProjectVariable = "GOOGLE_CLOUD_PROJECT";
    public const string Scope = "https://www.googleapis.com/auth/cloud-platform";
    // cloud.google.com/resource-manager/docs/creating-managing-projects: 6-30 characters, lowercase letters, digits and
    // hyphens, starting with a letter, not ending with a hyphen.
    private static readonly Regex ProjectId = new("^[a-z][a-z0-9-]{4,28}[a-z0-9]\\z", RegexOptions.CultureInvariant);

    public static async Task<GcpSignIn> ResolveAsync(ProviderCredential? explicitCredential, Func<CancellationToken, Task<StoredCredential?>>? stored,
        GcpEndpoints endpoints, CancellationToken ct, bool probe = true)
    {
        endpoints.Validate();
        var chosen = explicitCredential?.Project;
        if (chosen is not null) CheckProject(chosen, "Project");
        if (explicitCredential?.HasSecret == true)
            throw new InvalidSpecException("Credential", "GCP takes no -Credential; give a service-account key file with -CredentialPath (or Set-KsctlCredential -Provider Gcp -Path key.json).");
        if (explicitCredential?.CredentialPath is { } path)
            return FromKey(ReadKeyFile(path, "CredentialPath"), "CredentialPath", chosen, GcpCredentialSource.Parameter, endpoints);
        if (stored is not null && await stored(ct).ConfigureAwait(false) is { } s)
            return FromKey(ServiceAccountKey.Parse(s.Secret, "the stored GCP credential") ?? throw Auth("the stored GCP credential is not a service-account key file",
                "Set-KsctlCredential -Provider Gcp -Path <key.json> with a key made by 'gcloud iam service-accounts keys create'."),
                "stored", chosen, GcpCredentialSource.Stored, endpoints);
        if (Variable(CredentialsVariable) is { } file)
        {
            var text = Read(file, CredentialsVariable);
            if (ServiceAccountKey.Parse(text, CredentialsVariable) is { } key)
                return FromKey(key, CredentialsVariable, chosen, GcpCredentialSource.Environment, endpoints);
            // Another kind of credential file (authorized_user, external_account): read as ADC reads gcloud's file.
            var other = GcpApplicationDefault.FromFile(text, file, endpoints);
            return Library(other.Credential, chosen, GcpCredentialSource.Environment, other.Account);
        }
        // Tab completion never probes ADC (the metadata server, gcloud): it may take seconds or prompt.
        if (!endpoints.UseApplicationDefault || !probe)
            throw Auth("no GCP credential was found", $"Give -CredentialPath <key.json>, run Set-KsctlCredential -Provider Gcp -Path <key.json>, or set {CredentialsVariable}.");
        var found = await GcpApplicationDefault.FindAsync(endpoints, ct).ConfigureAwait(false)
            ?? throw Auth("no GCP credential was found (no gcloud credential file, no metadata server)",
                $"Give -CredentialPath <key.json>, run Set-KsctlCredential -Provider Gcp -Path <key.json>, set {CredentialsVariable}, or run 'gcloud auth application-default login'.");
        if (found.Project is not null && chosen is null && Variable(ProjectVariable) is null) CheckProject(found.Project, "Project");
        return Library(found.Credential, chosen ?? Variable(ProjectVariable) ?? found.Project, GcpCredentialSource.ApplicationDefault, found.Account);
    }

    /// <summary>Reads and checks a service-account key file (the -CredentialPath and Set-KsctlCredential -Path rule).</summary>
    public static ServiceAccountKey ReadKeyFile(string path, string parameter)
    {
        var text = Read(path, parameter);
        return ServiceAccountKey.Parse(text, parameter) ?? throw new InvalidSpecException(parameter,
            $"'{path}' is not a service-account key file (JSON with \"type\": \"service_account\", client_email and private_key, as 'gcloud iam service-accounts keys create' writes).");
    }

    public static void CheckProject(string project, string parameter)
    {
        if (!ProjectId.IsMatch(project))
            throw new InvalidSpecException(parameter, $"'{Model.ClusterId.Printable(project)}' is not a project id (6-30 lowercase letters, digits and '-', starting with a letter, not ending with '-').");
    }

    private static string Read(string path, string parameter)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new InvalidSpecException(parameter, $"the key file '{path}' cannot be read: {e.Message}");
        }
    }

    private static readonly ConcurrentDictionary<string, ServiceAccountCredential> Cache = new();

    private static GcpSignIn FromKey(ServiceAccountKey key, string where, string? chosen, GcpCredentialSource source, GcpEndpoints endpoints)
    {
        var project = chosen ?? key.ProjectId ?? Variable(ProjectVariable);
        if (project is not null && chosen is null) CheckProject(project, where == CredentialsVariable ? ProjectVariable : "Project");
        // One credential object per key and token endpoint: it caches its token for the many steps of an operation.
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key.PrivateKey + "|" + endpoints.TokenUrl)));
        ServiceAccountCredential credential;
        try
        {
            credential = Cache.GetOrAdd(hash, _ => new ServiceAccountCredential(new ServiceAccountCredential.Initializer(key.ClientEmail, endpoints.TokenUrl.ToString())
            {
                ProjectId = key.ProjectId,
                KeyId = key.PrivateKeyId,
                Scopes = [Scope],
            }.FromPrivateKey(key.PrivateKey)));
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException or FormatException)
        {
            throw Auth($"the private key of {key.ClientEmail} ({where}) cannot be read: {e.Message}", "Create a new key with 'gcloud iam service-accounts keys create'.");
        }
        return Library(credential, project, source, key.ClientEmail);
    }

    private static GcpSignIn Library(ICredential credential, string? project, GcpCredentialSource source, string? account)
    {
        var scoped = credential is GoogleCredential g && g.IsCreateScopedRequired ? g.CreateScoped(Scope) : credential;
        return new GcpSignIn(async ct =>
        {
            try { return await scoped.GetAccessTokenForRequestAsync(null, ct).ConfigureAwait(false); }
            catch (TokenResponseException e)
            {
                throw Auth($"Google refused the {source} credential{(account is null ? "" : $" of {account}")}: {e.Error?.Error}: {e.Error?.ErrorDescription}",
                    "Check that the key is not deleted or disabled (gcloud iam service-accounts keys list) and the clock is right.");
            }
            catch (HttpRequestException e)
            {
                throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ConnectionError, $"Google's token endpoint could not be reached: {e.Message}", "Gcp", e);
            }
        }, project ?? Variable(ProjectVariable), source, account) { Expiry = () => ExpiryOf(scoped) };
    }

    /// <summary>Issued time + expires_in of the credential's current token (Google.Apis.Auth keeps the last answer).</summary>
    private static DateTimeOffset? ExpiryOf(ICredential credential) => credential switch
    {
        GoogleCredential g => ExpiryOf(g.UnderlyingCredential),
        ServiceCredential { Token: { ExpiresInSeconds: { } s } t } => new DateTimeOffset(DateTime.SpecifyKind(t.IssuedUtc, DateTimeKind.Utc)).AddSeconds(s),
        UserCredential { Token: { ExpiresInSeconds: { } s } t } => new DateTimeOffset(DateTime.SpecifyKind(t.IssuedUtc, DateTimeKind.Utc)).AddSeconds(s),
        _ => null,
    };

    internal static KsctlException Auth(string why, string action) =>
        new("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError, $"GCP sign-in failed: {why}.", "Gcp") { RecommendedAction = action };

    private static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v.Trim() : null;
}

/// <summary>The fields of a service-account key file Ksctl uses (cloud.google.com/iam/docs/keys-create-delete, "key file format").</summary>
internal sealed record ServiceAccountKey(string ClientEmail, string PrivateKey, string? PrivateKeyId, string? ProjectId)
{
    /// <summary>The key, or null when the JSON is another kind of credential file; throws for a service-account file missing fields.</summary>
    public static ServiceAccountKey? Parse(string json, string where)
    {
        JsonObject? o;
        try { o = JsonNode.Parse(json) as JsonObject; }
        catch (System.Text.Json.JsonException) { return null; }
        if (o is null || Text(o, "type") != "service_account") return null;
        var email = Text(o, "client_email");
        var key = Text(o, "private_key");
        if (email is null || !email.Contains('@') || email.Any(char.IsWhiteSpace))
            throw new InvalidSpecException(where == "stored" ? "Path" : where, "the key file's client_email is missing or not an e-mail address.");
        if (key is null || !key.Contains("-----BEGIN PRIVATE KEY-----", StringComparison.Ordinal))
            throw new InvalidSpecException(where == "stored" ? "Path" : where, "the key file's private_key is missing or not a PKCS#8 PEM key.");
        return new ServiceAccountKey(email, key, Text(o, "private_key_id"), Text(o, "project_id"));
    }

    private static string? Text(JsonObject o, string name) =>
        o[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;

    public override string ToString() => $"service account {ClientEmail}";
}
