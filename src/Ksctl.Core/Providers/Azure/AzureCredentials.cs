using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Storage.Credentials;

namespace Ksctl.Core.Providers.Azure;

/// <summary>Which way the Azure credential was found (shown in verbose output; never the secret).</summary>
internal enum AzureCredentialSource { Parameter, Stored, Environment, Default }

/// <summary>A token credential for ARM, the subscription to use (null: discover the single visible one) and where they came from.</summary>
internal sealed record AzureSignIn(TokenCredential Credential, string? SubscriptionId, AzureCredentialSource Source, string? ClientId)
{
    public override string ToString() => $"{Source} credential{(ClientId is null ? "" : $" for client {ClientId}")}";
}

/// <summary>
/// Finds the Azure credential, first match wins: -Credential (client id / client secret, with -TenantId), the stored
/// credential (Set-KsctlCredential -Provider Azure), the AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET variables,
/// else DefaultAzureCredential (managed identity in a runbook, Azure CLI / Az PowerShell / VS Code sign-in on a desk).
/// The subscription: the one given with the credential, else AZURE_SUBSCRIPTION_ID, else the single one visible.
/// </summary>
internal static class AzureCredentials
{
    public const string ClientIdVariable = "AZURE_CLIENT_ID";
    public const string TenantIdVariable = "AZURE_TENANT_ID";
    public const string ClientSecretVariable = "AZURE_CLIENT_SECRET";
    public const string SubscriptionIdVariable = "AZURE_SUBSCRIPTION_ID";

    public static async Task<AzureSignIn> ResolveAsync(ProviderCredential? explicitCredential, Func<CancellationToken, Task<StoredCredential?>>? stored,
        AzureEndpoints endpoints, CancellationToken ct)
    {
        if (await ResolveWithoutProbingAsync(explicitCredential, stored, endpoints, ct).ConfigureAwait(false) is { } signIn) return signIn;
        var tenantChoice = explicitCredential?.TenantId;
        var credential = Credentials.GetOrAdd((endpoints, $"default|{tenantChoice}"), _ =>
        {
            var options = new DefaultAzureCredentialOptions { AuthorityHost = endpoints.Authority };
            if (tenantChoice is not null) options.TenantId = tenantChoice;
            Configure(options, endpoints);
            if (endpoints.DisableInstanceDiscovery) options.DisableInstanceDiscovery = true;
            if (endpoints.ExcludeHostCredentials)
            {
                options.ExcludeManagedIdentityCredential = true;
                options.ExcludeWorkloadIdentityCredential = true;
                options.ExcludeAzureCliCredential = true;
                options.ExcludeAzurePowerShellCredential = true;
                options.ExcludeAzureDeveloperCliCredential = true;
                options.ExcludeVisualStudioCredential = true;
                options.ExcludeVisualStudioCodeCredential = true;
                options.ExcludeInteractiveBrowserCredential = true;
            }
            return new DefaultAzureCredential(options);
        });
        return new AzureSignIn(credential, explicitCredential?.SubscriptionId ?? Variable(SubscriptionIdVariable), AzureCredentialSource.Default, null);
    }

    /// <summary>
    /// The same order as <see cref="ResolveAsync"/> without its last resort: only a client secret that is already at hand
    /// (-Credential, the stored credential, the AZURE_* variables). Null where ResolveAsync would fall back to
    /// DefaultAzureCredential, which probes managed identity, the Azure CLI and others one after the other and can take
    /// seconds or open a sign-in prompt: Tab completion must do neither.
    /// </summary>
    public static async Task<AzureSignIn?> ResolveWithoutProbingAsync(ProviderCredential? explicitCredential,
        Func<CancellationToken, Task<StoredCredential?>>? stored, AzureEndpoints endpoints, CancellationToken ct)
    {
        // An endpoint override that would send the secret or the token in clear text is refused before anything is sent.
        endpoints.Validate();
        // -SubscriptionId (with or without -Credential) chooses the subscription whichever way the sign-in is found.
        var chosen = explicitCredential?.SubscriptionId;
        if (chosen is not null && !Guid.TryParse(chosen, out _))
            throw new InvalidSpecException("SubscriptionId", $"'{chosen}' is not a subscription id (a GUID such as 00000000-0000-0000-0000-000000000000).");
        var envSubscription = Variable(SubscriptionIdVariable);
        if (explicitCredential is { HasSecret: true })
        {
            var tenant = explicitCredential.TenantId ?? throw new InvalidSpecException("TenantId",
                "-Credential for Azure is a service principal (user name = client id, password = client secret) and needs -TenantId.");
            if (string.IsNullOrWhiteSpace(explicitCredential.UserName))
                throw new InvalidSpecException("Credential", "the user name of -Credential must be the service principal's client (application) id.");
            return new AzureSignIn(ClientSecret(tenant, explicitCredential.UserName, explicitCredential.Secret!, endpoints),
                chosen ?? envSubscription, AzureCredentialSource.Parameter, explicitCredential.UserName);
        }
        if (stored is not null && await stored(ct).ConfigureAwait(false) is { } s)
        {
            if (string.IsNullOrWhiteSpace(s.TenantId))
                throw new KsctlException("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError,
                    $"The stored Azure credential for client {s.UserName} has no tenant id.", "Azure")
                { RecommendedAction = "Set-KsctlCredential -Provider Azure -TenantId <tenant> -SubscriptionId <subscription> -Credential <client id / secret>." };
            return new AzureSignIn(ClientSecret(s.TenantId, s.UserName, s.Secret, endpoints), chosen ?? s.SubscriptionId ?? envSubscription, AzureCredentialSource.Stored, s.UserName);
        }
        var (clientId, tenantId, secret) = (Variable(ClientIdVariable), Variable(TenantIdVariable), Variable(ClientSecretVariable));
        if (clientId is not null && tenantId is not null && secret is not null)
            return new AzureSignIn(ClientSecret(tenantId, clientId, secret, endpoints), chosen ?? envSubscription, AzureCredentialSource.Environment, clientId);
        return null;
    }

    /// <summary>
    /// One credential object per identity for the process: it caches its token, so the many steps of one operation (and
    /// later operations) sign in once instead of once per step. Keyed by a hash of the secret, never the secret.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(AzureEndpoints, string), TokenCredential> Credentials = new();

    private static TokenCredential ClientSecret(string tenant, string clientId, string secret, AzureEndpoints endpoints)
    {
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)));
        return Credentials.GetOrAdd((endpoints, $"secret|{tenant}|{clientId}|{hash}"), _ =>
        {
            var options = new ClientSecretCredentialOptions { AuthorityHost = endpoints.Authority, DisableInstanceDiscovery = endpoints.DisableInstanceDiscovery };
            Configure(options, endpoints);
            return new ClientSecretCredential(tenant, clientId, secret, options);
        });
    }

    /// <summary>
    /// The same transport (and test-only certificate check) for Entra as for ARM. ARM gets more retries (throttling
    /// windows can last a while); a sign-in that cannot reach Entra should fail in seconds, not minutes.
    /// </summary>
    internal static void Configure(ClientOptions options, AzureEndpoints endpoints, int maxRetries = 3)
    {
        if (Transport(endpoints) is { } transport) options.Transport = transport;
        options.Retry.MaxRetries = maxRetries;
        options.Retry.Delay = endpoints.RetryDelay;
        options.Retry.MaxDelay = TimeSpan.FromSeconds(30);
        options.Retry.Mode = RetryMode.Exponential;
        options.Diagnostics.IsLoggingContentEnabled = false;
    }

    private static readonly Dictionary<AzureEndpoints, HttpPipelineTransport> Transports = new(ReferenceEqualityComparer.Instance);

    /// <summary>One transport (one connection pool) per endpoints object; null keeps Azure.Core's shared default.</summary>
    private static HttpPipelineTransport? Transport(AzureEndpoints endpoints)
    {
        if (endpoints.ServerCertificateValidation is not { } validate) return null;
        lock (Transports)
        {
            if (!Transports.TryGetValue(endpoints, out var transport))
            {
                var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, chain, errors) => validate(cert, chain, errors) };
                Transports[endpoints] = transport = new HttpClientTransport(handler);
            }
            return transport;
        }
    }

    private static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v.Trim() : null;
}
