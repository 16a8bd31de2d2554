using Ksctl.Core.Clusters;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;

namespace Ksctl.Core.Tests.Clusters;

/// <summary>
/// Every load re-checks the recorded spec with the provider's own rules (issue #12 item 2). That is only sound if a
/// spec each provider prepared passes its rules again, for every provider and type: checked here, with defaults and
/// with every field a user can set.
/// </summary>
public sealed class StoredSpecRecheckTests : IDisposable
{
    private readonly TempDir _dir = new("ksctl-recheck");

    public void Dispose() => _dir.Dispose();

    public static TheoryData<CloudProvider, ClusterType, string> Cases => new()
    {
        { CloudProvider.Local, ClusterType.Managed, "LOCAL" },
        { CloudProvider.Azure, ClusterType.Managed, "eastus" },
        { CloudProvider.Azure, ClusterType.SelfManaged, "westeurope" },
        { CloudProvider.Civo, ClusterType.Managed, "LON1" },
        { CloudProvider.Civo, ClusterType.SelfManaged, "FRA1" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_spec_a_provider_prepared_passes_its_rules_again_when_loaded(CloudProvider provider, ClusterType type, string region)
    {
        using var recorded = new RecordedManager(_dir.Path, new RecordingStore());
        var prepared = recorded.Manager.Prepare(new ClusterSpec { Id = new ClusterId(provider, type, "again", region) });
        var state = new ClusterState { Id = prepared.Id, Spec = prepared };
        new StoredStateRules(ProviderRegistry.CreateDefault(new KsctlServices(recorded.Settings, recorded.Loggers, recorded.Processes, TimeProvider.System)))
            .Check(state, "test");
        // Preparing again changes nothing either.
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(prepared), System.Text.Json.JsonSerializer.Serialize(recorded.Manager.Prepare(prepared)));
    }
}
