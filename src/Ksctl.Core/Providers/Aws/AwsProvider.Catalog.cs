using System.Text.RegularExpressions;
using Amazon.EC2;
using Amazon.EC2.Model;

namespace Ksctl.Core.Providers.Aws;

/// <summary>
/// What EC2 offers, for Tab completion: the regions enabled for the account (DescribeRegions) and the instance types
/// offered in a region (DescribeInstanceTypeOfferings, LocationType region, every page). Empty, with nothing sent, when
/// no credential is at hand without probing (the default chain's instance/container roles are never asked for a Tab
/// press); a refused credential throws KsctlAuthenticationFailed, as the other catalogues do.
/// </summary>
internal sealed partial class AwsProvider : ILiveCatalog
{
    private static readonly Regex RegionName = new(@"^[a-z]{2}(-[a-z]+)+-\d{1,2}\z", RegexOptions.CultureInvariant);

    public async Task<IReadOnlyList<string>> RegionsAsync(CancellationToken ct)
    {
        using var clients = await CatalogClientsAsync(DefaultRegion, ct).ConfigureAwait(false);
        if (clients is null) return [];
        var answer = await clients.CallAsync("EC2", "DescribeRegions", c => clients.Ec2.DescribeRegionsAsync(new DescribeRegionsRequest(), c), ct).ConfigureAwait(false);
        return (answer.Regions ?? []).Select(r => r.RegionName).OfType<string>().Where(r => RegionName.IsMatch(r)).Distinct().Order(StringComparer.Ordinal).ToList();
    }

    public async Task<IReadOnlyList<string>> NodeSizesAsync(string? region, CancellationToken ct)
    {
        var where = string.IsNullOrWhiteSpace(region) ? DefaultRegion : region.Trim().ToLowerInvariant();
        // A half-typed or made-up region must not become part of an endpoint's host name.
        if (!RegionName.IsMatch(where)) return [];
        using var clients = await CatalogClientsAsync(where, ct).ConfigureAwait(false);
        if (clients is null) return [];
        var types = new List<string>();
        string? next = null;
        do
        {
            var page = await clients.CallAsync("EC2", "DescribeInstanceTypeOfferings", c => clients.Ec2.DescribeInstanceTypeOfferingsAsync(new DescribeInstanceTypeOfferingsRequest
            {
                LocationType = LocationType.Region,
                MaxResults = 1000,
                NextToken = next,
            }, c), ct).ConfigureAwait(false);
            types.AddRange((page.InstanceTypeOfferings ?? []).Select(o => o.InstanceType?.Value).OfType<string>());
            next = page.NextToken;
        } while (!string.IsNullOrEmpty(next) && types.Count < 5000);
        return types.Where(t => AwsInstanceTypesLooksValid(t)).Distinct().Order(StringComparer.Ordinal).ToList();
    }

    private static bool AwsInstanceTypesLooksValid(string type)
    {
        try { AwsInstanceTypes.Validate("NodeSize", type); return true; }
        catch (Diagnostics.InvalidSpecException) { return false; }
    }

    private async Task<AwsClients?> CatalogClientsAsync(string region, CancellationToken ct) =>
        await AwsCredentials.ResolveWithoutProbingAsync(ExplicitCredential, StoredCredential, _endpoints, ct).ConfigureAwait(false) is { } signIn
            ? new AwsClients(signIn, region, _endpoints)
            : null;
}
