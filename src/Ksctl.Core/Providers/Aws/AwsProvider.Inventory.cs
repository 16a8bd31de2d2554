using System.Text.RegularExpressions;
using Amazon.EC2.Model;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Aws;

/// <summary>
/// The live inventory for Test-KsctlCluster: the instances of the cluster's region tagged ksctl-cluster=&lt;name&gt; and
/// ksctl-type=selfmanaged (DescribeInstances with tag filters, every page), with EC2's state name (running, stopped...).
/// Terminated instances, which EC2 keeps listing for about an hour, are not machines and are left out; so is anything
/// whose id is not an EC2 instance id or that has no Name tag. Read only.
/// </summary>
internal sealed partial class AwsProvider : IInventoryProvider
{
    private static readonly Regex InstanceId = new(@"^i-[0-9a-f]{8,17}\z", RegexOptions.CultureInvariant);

    public async Task<IReadOnlyList<LiveMachine>> LiveMachinesAsync(ClusterState state, CancellationToken cancellationToken)
    {
        using var clients = await ConnectAsync(state.Id.Region, cancellationToken).ConfigureAwait(false);
        var machines = new List<LiveMachine>();
        string? next = null;
        do
        {
            var page = await clients.CallAsync(AwsEndpoints.Ec2, "DescribeInstances", c => clients.Ec2.DescribeInstancesAsync(new DescribeInstancesRequest
            {
                Filters =
                [
                    new Filter { Name = $"tag:{AwsNames.ClusterTag}", Values = [state.Id.Name] },
                    new Filter { Name = $"tag:{AwsNames.TypeTag}", Values = ["selfmanaged"] },
                    new Filter { Name = "instance-state-name", Values = ["pending", "running", "stopping", "stopped", "shutting-down"] },
                ],
                MaxResults = 1000,
                NextToken = next,
            }, c), cancellationToken).ConfigureAwait(false);
            foreach (var instance in page.Reservations?.SelectMany(r => r.Instances ?? []) ?? [])
            {
                var name = instance.Tags?.FirstOrDefault(t => t.Key == "Name")?.Value;
                if (instance.InstanceId is not { } id || !InstanceId.IsMatch(id) || string.IsNullOrEmpty(name)) continue;
                if (!AwsNames.Owned(instance.Tags, state.Id)) continue;
                machines.Add(new LiveMachine(name, id, instance.State?.Name?.Value ?? "unknown"));
            }
            next = page.NextToken;
        } while (!string.IsNullOrEmpty(next) && machines.Count < 5000);
        return machines;
    }
}
