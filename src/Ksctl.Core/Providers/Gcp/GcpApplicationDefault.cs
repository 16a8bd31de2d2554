using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Flows;
using Google.Apis.Auth.OAuth2.Responses;
using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Providers.Gcp;

/// <summary>A credential found by Application Default Credentials: where, the token source and the project it names (if any).</summary>
internal sealed record GcpFoundCredential(ICredential Credential, string? Project, string Where, string? Account);

/// <summary>
/// Application Default Credentials, the last resort of the credential order, in ADC's own order
/// (cloud.google.com/docs/authentication/application-default-credentials, "How ADC works"): gcloud's credential file
/// (gcloud auth application-default login writes an authorized_user file, --cred-file or a workload identity federation
/// configuration an external_account file) at $CLOUDSDK_CONFIG/application_default_credentials.json, else
/// ~/.config/gcloud/… (%APPDATA%\gcloud\… on Windows); then the metadata server of the machine Ksctl runs on
/// (cloud.google.com/compute/docs/metadata/querying-metadata: http://169.254.169.254 or $GCE_METADATA_HOST, every request
/// with "Metadata-Flavor: Google", an answer without that header is not the metadata server). Ksctl decides where
/// tokens come from: an authorized_user refresh token goes to <see cref="GcpEndpoints.TokenUrl"/> (not a URL the file
/// names), a workload identity federation file must name <see cref="GcpEndpoints.StsUrl"/> as its token_url, and no
/// service-account impersonation URL outside <see cref="GcpEndpoints.IamCredentials"/> is followed.
/// </summary>
internal static class GcpApplicationDefault
{
    public const string CloudSdkConfigVariable = "CLOUDSDK_CONFIG";
    public const string MetadataHostVariable = "GCE_METADATA_HOST";
    private const string DefaultMetadataHost = "169.254.169.254";
    private const string FileName = "application_default_credentials.json";
    // host or host:port, nothing else: the variable must not carry a scheme, path or credentials.
    private static readonly Regex HostAndPort = new("^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?\\z|^\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?\\z", RegexOptions.CultureInvariant);
    private static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });
    // One credential object per source (file content or metadata server) and token endpoint: it caches its token for the
    // many steps of an operation, as Google's library caches Application Default Credentials per process.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, GcpFoundCredential> Cache = new();

    private static string Key(params string[] parts) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', parts))));

    /// <summary>gcloud's ADC file path (it may not exist).</summary>
    public static string? WellKnownFile()
    {
        if (Environment.GetEnvironmentVariable(CloudSdkConfigVariable) is { Length: > 0 } config) return Path.Combine(config, FileName);
        if (OperatingSystem.IsWindows())
            return Environment.GetEnvironmentVariable("APPDATA") is { Length: > 0 } appData ? Path.Combine(appData, "gcloud", FileName) : null;
        return Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } home ? Path.Combine(home, ".config", "gcloud", FileName) : null;
    }

    /// <summary>gcloud's file if present, else the metadata server if it answers as one; null when neither is there.</summary>
    public static async Task<GcpFoundCredential?> FindAsync(GcpEndpoints endpoints, CancellationToken ct)
    {
        if (WellKnownFile() is { } file && File.Exists(file))
        {
            string text;
            try { text = await File.ReadAllTextAsync(file, ct).ConfigureAwait(false); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw GcpCredentials.Auth($"gcloud's credential file '{file}' cannot be read: {e.Message}", "Run 'gcloud auth application-default login' again.");
            }
            return FromFile(text, file, endpoints);
        }
        return await MetadataAsync(endpoints, ct).ConfigureAwait(false);
    }

    /// <summary>An authorized_user or external_account credential file (from gcloud's folder or GOOGLE_APPLICATION_CREDENTIALS).</summary>
    public static GcpFoundCredential FromFile(string json, string where, GcpEndpoints endpoints)
    {
        var key = Key("file", where, json, endpoints.TokenUrl.ToString(), endpoints.StsUrl.ToString(), endpoints.IamCredentials.ToString());
        if (Cache.TryGetValue(key, out var cached)) return cached;
        var found = ReadFile(json, where, endpoints);
        return Cache.GetOrAdd(key, found);
    }

    private static GcpFoundCredential ReadFile(string json, string where, GcpEndpoints endpoints)
    {
        JsonObject? o = null;
        try { o = JsonNode.Parse(json) as JsonObject; }
        catch (System.Text.Json.JsonException) { }
        var type = o is null ? null : Text(o, "type");
        switch (type)
        {
            case "authorized_user":
            {
                var (id, secret, refresh) = (Text(o!, "client_id"), Text(o!, "client_secret"), Text(o!, "refresh_token"));
                if (id is null || secret is null || refresh is null)
                    throw GcpCredentials.Auth($"the user credential file '{where}' lacks client_id, client_secret or refresh_token", "Run 'gcloud auth application-default login' again.");
                var token = endpoints.TokenUrl.ToString();
                var flow = new AuthorizationCodeFlow(new AuthorizationCodeFlow.Initializer("https://accounts.google.com/o/oauth2/v2/auth", token)
                {
                    ClientSecrets = new ClientSecrets { ClientId = id, ClientSecret = secret },
                    Scopes = [GcpCredentials.Scope],
                });
                return new GcpFoundCredential(new UserCredential(flow, "ApplicationDefaultCredentials", new TokenResponse { RefreshToken = refresh }), null, where, Text(o!, "account"));
            }
            case "external_account":
            {
                if (!SameUrl(Text(o!, "token_url"), endpoints.StsUrl))
                    throw GcpCredentials.Auth($"the workload identity federation file '{where}' sends its token to '{Text(o!, "token_url")}', not Google's STS endpoint {endpoints.StsUrl}",
                        "Create the configuration with 'gcloud iam workload-identity-pools create-cred-config'.");
                if (Text(o!, "service_account_impersonation_url") is { } impersonation
                    && !(Uri.TryCreate(impersonation, UriKind.Absolute, out var u) && endpoints.IamCredentials.IsBaseOf(u)))
                    throw GcpCredentials.Auth($"the workload identity federation file '{where}' impersonates through '{impersonation}', not {endpoints.IamCredentials}",
                        "Create the configuration with 'gcloud iam workload-identity-pools create-cred-config'.");
                ICredential credential;
                try { credential = CredentialFactory.FromJson<ExternalAccountCredential>(json); }
                catch (Exception e) when (e is InvalidOperationException or ArgumentException or NotImplementedException)
                {
                    throw GcpCredentials.Auth($"the workload identity federation file '{where}' is not usable: {e.Message}", "Create the configuration with 'gcloud iam workload-identity-pools create-cred-config'.");
                }
                return new GcpFoundCredential(credential, null, where, null);
            }
            default:
                throw GcpCredentials.Auth($"'{where}' is not a Google credential file Ksctl can use (type '{Model.ClusterId.Printable(type ?? "")}')",
                    "Use a service-account key, 'gcloud auth application-default login', or a workload identity federation configuration.");
        }
    }

    /// <summary>The metadata server's default service account, when one answers as the metadata server (null otherwise).</summary>
    private static async Task<GcpFoundCredential?> MetadataAsync(GcpEndpoints endpoints, CancellationToken ct)
    {
        var host = Environment.GetEnvironmentVariable(MetadataHostVariable) is { Length: > 0 } h ? h.Trim() : DefaultMetadataHost;
        if (!HostAndPort.IsMatch(host))
            throw new InvalidSpecException(MetadataHostVariable, $"'{Model.ClusterId.Printable(host)}' is not a host or host:port of a metadata server.");
        var root = new Uri($"http://{host}/computeMetadata/v1/");
        string? project;
        using (var probe = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            probe.CancelAfter(endpoints.Timings.MetadataProbe);
            try { project = await ReadAsync(new Uri(root, "project/project-id"), probe.Token).ConfigureAwait(false); }
            catch (Exception e) when (e is HttpRequestException || (e is OperationCanceledException && !ct.IsCancellationRequested)) { return null; }
        }
        if (project is null) return null;
        var account = await ReadAsync(new Uri(root, "instance/service-accounts/default/email"), ct).ConfigureAwait(false);
        return Cache.GetOrAdd(Key("metadata", host, project.Trim(), account?.Trim() ?? ""), _ => new GcpFoundCredential(
            new ComputeCredential(new ComputeCredential.Initializer(new Uri(root, "instance/service-accounts/default/token").ToString())),
            project.Trim(), $"the metadata server at {host}", account?.Trim()));
    }

    /// <summary>One metadata read; null unless the answer is 200 and carries Metadata-Flavor: Google.</summary>
    private static async Task<string?> ReadAsync(Uri url, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("Metadata-Flavor", "Google");
        using var response = await Http.SendAsync(request, ct).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK || !response.Headers.TryGetValues("Metadata-Flavor", out var flavor) || !flavor.Contains("Google")) return null;
        return await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
    }

    private static bool SameUrl(string? url, Uri expected) =>
        url is not null && Uri.TryCreate(url, UriKind.Absolute, out var u) && Uri.Compare(u, expected, UriComponents.AbsoluteUri, UriFormat.Unescaped, StringComparison.Ordinal) == 0;

    private static string? Text(JsonObject o, string name) =>
        o[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;
}
