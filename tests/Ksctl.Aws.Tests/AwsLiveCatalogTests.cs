using Ksctl.Core.Diagnostics;
using Ksctl.Core.Providers;

namespace Ksctl.Aws.Tests;

/// <summary>Tab completion's live lists: EC2's regions and a region's instance type offerings (every page).</summary>
[Collection(AwsEnvironmentCollection.Name)]
public sealed class AwsLiveCatalogTests : IAsyncLifetime
{
    private AwsTestBed _bed = null!;

    public async Task InitializeAsync() => _bed = await AwsTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task Regions_and_instance_types_come_from_EC2_when_a_credential_is_at_hand()
    {
        AwsTestBed.UseEnvironmentCredential();
        ILiveCatalog catalog = _bed.Provider();
        _bed.Aws.Regions.Add("eu-south-2");
        _bed.Aws.InstanceTypes.AddRange(Enumerable.Range(1, 1200).Select(i => $"x{i % 9 + 1}e.{i}xlarge"));

        var regions = await catalog.RegionsAsync(CancellationToken.None);
        Assert.Contains("eu-south-2", regions);
        Assert.Equal(regions.Order(StringComparer.Ordinal), regions);

        var types = await catalog.NodeSizesAsync("eu-west-1", CancellationToken.None);
        Assert.Contains("m7i.large", types);
        Assert.Contains("t4g.medium", types);
        // 1209 offerings in pages of at most 1000: both pages were read; names that are no instance type are left out.
        Assert.Equal(2, _bed.Aws.Requests.Count(r => r.Action == "DescribeInstanceTypeOfferings"));
        Assert.Contains("x2e.1xlarge", types);
        Assert.DoesNotContain(types, t => t.EndsWith("1200xlarge", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_a_credential_at_hand_nothing_is_sent_and_a_refused_one_is_KsctlAuthenticationFailed()
    {
        ILiveCatalog catalog = _bed.Provider();
        Assert.Empty(await catalog.RegionsAsync(CancellationToken.None));
        Assert.Empty(await catalog.NodeSizesAsync("us-east-1", CancellationToken.None));
        Assert.Empty(_bed.Aws.Requests);

        AwsTestBed.UseEnvironmentCredential();
        Assert.Empty(await catalog.NodeSizesAsync("../../etc", CancellationToken.None));
        Assert.Empty(_bed.Aws.Requests);

        // EC2 unreachable (a port nothing listens on): a connection error naming EC2 and its address, not a crash.
        var nowhere = _bed.Provider(endpoints: _bed.Endpoints with { Ec2Url = new Uri("http://127.0.0.1:9/"), MaxErrorRetry = 0 });
        var down = await Assert.ThrowsAnyAsync<KsctlException>(() => ((ILiveCatalog)nowhere).RegionsAsync(CancellationToken.None));
        Assert.Equal(("KsctlCloudApiError", KsctlErrorCategory.ConnectionError), (down.ErrorId, down.Category));
        Assert.Contains("127.0.0.1:9", down.Message);

        AwsTestBed.UseEnvironmentCredential(secret: "wrong/secret/000000000000000000000000000");
        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => catalog.RegionsAsync(CancellationToken.None));
        Assert.Equal("KsctlAuthenticationFailed", e.ErrorId);
    }
}
