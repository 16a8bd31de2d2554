using Ksctl.Core.Clusters;
using Ksctl.Core.Configuration;
using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Tests.Storage;

/// <summary>
/// Issue #12 item 8: a SAS token given as the storage account Uri is refused, not saved in plaintext in config.json
/// (a SAS is accepted inside a connection string, which is saved encrypted); one saved by an older Ksctl is not used.
/// </summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class StoreConfigurationTests : IDisposable
{
    private readonly TempDir _home = new("ksctl-config");
    private readonly EnvironmentScope _env = new();

    public StoreConfigurationTests() =>
        _env.Set(KsctlSettings.AccountUriVariable, null).Set(KsctlSettings.ContainerVariable, null)
            .Set(KsctlSettings.ConnectionStringVariable, null).Set(KsctlSettings.StoreVariable, null);

    public void Dispose()
    {
        _env.Dispose();
        _home.Dispose();
    }

    private const string Sas = "https://acct.blob.core.windows.net/state?sv=2024-08-04&ss=b&srt=co&sp=rwdl&se=2030-01-01&sig=SECRETSIGNATURE%3D";

    [Fact]
    public void A_SAS_in_the_storage_account_Uri_is_refused_and_nothing_is_saved()
    {
        var settings = KsctlSettings.LoadFile(_home.Path) with { StateStore = StateStoreKind.AzureBlob, StorageAccountUri = Sas };
        var ex = Assert.Throws<InvalidSpecException>(settings.Save);
        Assert.Equal("StorageAccountUri", ex.Parameter);
        Assert.Contains("SAS", ex.Message);
        Assert.DoesNotContain("SECRETSIGNATURE", ex.Message);
        Assert.False(File.Exists(settings.ConfigPath));
        Assert.NotNull(KsctlSettings.StoredAccountUriProblem(Sas));
        Assert.Null(KsctlSettings.StoredAccountUriProblem("https://acct.blob.core.windows.net/state"));
    }

    [Fact]
    public void A_SAS_saved_by_an_older_Ksctl_is_not_used_but_one_from_the_environment_is()
    {
        File.WriteAllText(Path.Combine(_home.Path, KsctlSettings.ConfigFileName),
            $$"""{"stateStore":"AzureBlob","storageAccountUri":"{{Sas}}"}""");
        var ex = Assert.Throws<KsctlException>(() => ClusterManager.CreateStore(KsctlSettings.Load(_home.Path)));
        Assert.Equal("KsctlConfigurationInvalid", ex.ErrorId);
        Assert.Contains("SAS", ex.Message);
        Assert.DoesNotContain("SECRETSIGNATURE", ex.Message);

        // The environment is not saved anywhere: a runbook may hand its SAS to the session that way.
        _env.Set(KsctlSettings.AccountUriVariable, Sas);
        Assert.StartsWith("AzureBlob: https://acct.blob.core.windows.net/state", ClusterManager.CreateStore(KsctlSettings.Load(_home.Path)).Description);
    }
}
