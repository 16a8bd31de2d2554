using System.Collections;

namespace Ksctl.Tests.Shared;

/// <summary>
/// Keeps the developer's or CI host's cloud sign-in out of a test: a test that passes only because CIVO_TOKEN,
/// AZURE_SUBSCRIPTION_ID, an `az login` cache or the instance metadata service (IMDS) of the build VM happened to be
/// there tests nothing, and one that fails because of them is a flake. Which sources are read:
/// Ksctl's own variables (CivoProvider.TokenVariable, CivoClient.UrlVariable, AzureCredentials.*Variable), and
/// Azure.Identity's EnvironmentCredential / WorkloadIdentityCredential / ManagedIdentityCredential / AzureCliCredential
/// (AZURE_*, IDENTITY_ENDPOINT, IDENTITY_HEADER, IMDS_ENDPOINT, MSI_ENDPOINT, MSI_SECRET, AZURE_CONFIG_DIR), and the AWS
/// SDK's default chain (AWS_*, its shared config/credentials files, AWS_EC2_METADATA_DISABLED).
/// </summary>
public static class HostCredentialIsolation
{
    private static readonly string[] Prefixes = ["CIVO_", "AZURE_", "AWS_"];
    private static readonly string[] Named = ["IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET"];

    /// <summary>Every variable of the host that a cloud SDK or Ksctl would read as a sign-in or an endpoint.</summary>
    public static IReadOnlyList<string> HostVariables() =>
        Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => Prefixes.Any(p => k.StartsWith(p, StringComparison.OrdinalIgnoreCase)) || Named.Contains(k, StringComparer.OrdinalIgnoreCase))
            .Concat(Named)
            .Distinct(StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// Clears them, and points the CLIs' credential caches at <paramref name="emptyDirectory"/> (nothing to sign in
    /// with) and turns AWS's IMDS lookup off. Returns the previous values, for <see cref="Restore"/>.
    /// </summary>
    public static Dictionary<string, string?> Clear(string emptyDirectory)
    {
        var saved = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var name in HostVariables().Concat(["AZURE_CONFIG_DIR", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED"]))
            if (!saved.ContainsKey(name)) saved[name] = Environment.GetEnvironmentVariable(name);
        foreach (var name in saved.Keys) Environment.SetEnvironmentVariable(name, null);
        Directory.CreateDirectory(emptyDirectory);
        Environment.SetEnvironmentVariable("AZURE_CONFIG_DIR", emptyDirectory);
        Environment.SetEnvironmentVariable("AWS_CONFIG_FILE", Path.Combine(emptyDirectory, "aws-config"));
        Environment.SetEnvironmentVariable("AWS_SHARED_CREDENTIALS_FILE", Path.Combine(emptyDirectory, "aws-credentials"));
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        return saved;
    }

    public static void Restore(IDictionary<string, string?> saved)
    {
        foreach (var (name, value) in saved) Environment.SetEnvironmentVariable(name, value);
    }
}
