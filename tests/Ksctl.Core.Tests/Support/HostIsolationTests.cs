using Ksctl.Tests.Shared;
using Xunit;

namespace Ksctl.Core.Tests.Support;

[Collection(ProcessEnvironmentCollection.Name)]
public sealed class HostIsolationTests
{
    [Fact]
    public void The_test_process_sees_no_cloud_sign_in_of_the_host()
    {
        // Cleared at assembly load; a test that set one restores it to nothing at dispose.
        var leaked = HostCredentialIsolation.HostVariables()
            .Where(v => Environment.GetEnvironmentVariable(v) is { Length: > 0 })
            .ToList();
        Assert.Empty(leaked.Except(["AZURE_CONFIG_DIR", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED"]));
        Assert.Equal(HostIsolation.EmptyCredentialDirectory, Environment.GetEnvironmentVariable("AZURE_CONFIG_DIR"));
        Assert.Empty(Directory.GetFileSystemEntries(HostIsolation.EmptyCredentialDirectory));
        Assert.Equal("true", Environment.GetEnvironmentVariable("AWS_EC2_METADATA_DISABLED"));
    }

    [Fact]
    public void Clearing_removes_every_cloud_variable_and_restoring_puts_them_back()
    {
        using var dir = new TempDir();
        var names = new[] { "CIVO_TOKEN", "AZURE_SUBSCRIPTION_ID", "AZURE_CLIENT_SECRET", "AWS_ACCESS_KEY_ID", "IDENTITY_ENDPOINT", "MSI_ENDPOINT", "AZURE_CONFIG_DIR" };
        foreach (var n in names) Environment.SetEnvironmentVariable(n, "from-the-host");
        var saved = HostCredentialIsolation.Clear(dir.Combine("empty"));
        try
        {
            foreach (var n in names.Where(n => n != "AZURE_CONFIG_DIR")) Assert.Null(Environment.GetEnvironmentVariable(n));
            Assert.Equal(dir.Combine("empty"), Environment.GetEnvironmentVariable("AZURE_CONFIG_DIR"));
        }
        finally
        {
            HostCredentialIsolation.Restore(saved);
        }
        foreach (var n in names) Assert.Equal("from-the-host", Environment.GetEnvironmentVariable(n));
        HostIsolation.ClearHostCredentials();
    }
}
