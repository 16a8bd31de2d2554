using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.Aws.Eks;

namespace Ksctl.Core.Providers.Aws;

/// <summary>
/// Managed EKS clusters (Providers/Aws/Eks/): the spec rules, the create/delete/resize plans, and the clients each step
/// opens with the operation's credential (IAM and EKS over HTTPS signed by the SDK's SigV4 signer, EC2 through the SDK).
/// </summary>
internal sealed partial class AwsProvider : IManagedResizeProvider
{
    partial void PrepareManaged(ClusterSpec spec, ref ClusterSpec? prepared) => prepared = EksSpec.Prepare(spec, Descriptor.DefaultNodeCount);

    // -ProfileName (not a -Credential's keys) goes into the kubeconfig, so its token command signs in as the create did.
    private EksManagedCluster Eks => new(OpenEksSessionAsync, ExplicitCredential is { HasSecret: false } c ? c.ProfileName : null);

    public IReadOnlyList<PlanStep> CreateSteps(ClusterSpec spec) => Eks.CreateSteps(spec);

    public IReadOnlyList<PlanStep> DeleteSteps(ClusterState state) => Eks.DeleteSteps(state);

    public IReadOnlyList<PlanStep> ResizeSteps(ClusterState state, int nodeCount) => Eks.ResizeSteps(state, nodeCount);

    private async Task<EksSession> OpenEksSessionAsync(StepContext ctx, CancellationToken ct)
    {
        var region = ctx.State.Id.Region;
        var clients = await ConnectAsync(region, ct).ConfigureAwait(false);
        try
        {
            var endpoints = EksEndpoints.From(_endpoints, region);
            var credentials = clients.SignIn.Credentials;
            var timings = EksTimings.For(_endpoints);
            return new EksSession(
                new IamClient(endpoints, credentials, timings, ctx.Logger),
                new EksClient(endpoints, region, credentials, timings, ctx.Logger),
                clients.Ec2,
                async c => (await CallerAsync(clients, c).ConfigureAwait(false)).Arn,
                clients,
                timings);
        }
        catch
        {
            clients.Dispose();
            throw;
        }
    }
}
