using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>The session factory keeps the host's cloud sign-in out of every cmdlet test, and gives it back after.</summary>
[Collection(PowerShellCollection.Name)]
public sealed class SessionIsolationTests
{
    private static readonly string[] HostVariables = ["CIVO_TOKEN", "CIVO_API_URL", "AZURE_SUBSCRIPTION_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AWS_ACCESS_KEY_ID", "IDENTITY_ENDPOINT", "MSI_ENDPOINT"];

    [Fact]
    public void A_session_sees_none_of_the_hosts_cloud_variables_and_restores_them_at_dispose()
    {
        var before = HostVariables.ToDictionary(v => v, Environment.GetEnvironmentVariable);
        foreach (var v in HostVariables) Environment.SetEnvironmentVariable(v, "host-" + v);
        try
        {
            using (var session = new KsctlSession())
            {
                var seen = session.RunClean(string.Join("; ", HostVariables.Select(v => $"\"{v}=$env:{v}\""))).Output.Select(o => o.ToString()).ToList();
                Assert.Equal(HostVariables.Select(v => v + "="), seen);
                // The CLI caches Azure.Identity falls back to are empty folders of the session, not the developer's.
                var configDir = session.RunClean("$env:AZURE_CONFIG_DIR").Output.Single().ToString();
                Assert.StartsWith(session.Root, configDir);
                Assert.Empty(Directory.GetFileSystemEntries(configDir));
                Assert.Equal("true", session.RunClean("$env:AWS_EC2_METADATA_DISABLED").Output.Single().ToString());
            }
            foreach (var v in HostVariables) Assert.Equal("host-" + v, Environment.GetEnvironmentVariable(v));
        }
        finally
        {
            foreach (var (k, v) in before) Environment.SetEnvironmentVariable(k, v);
        }
    }
}
