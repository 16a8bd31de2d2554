using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.Aws.Eks;

namespace Ksctl.Aws.Tests;

/// <summary>Managed EKS clusters end to end through the ClusterManager against the AWS emulator (IAM, EC2, EKS, STS).</summary>
[Collection(AwsEnvironmentCollection.Name)]
public sealed class EksManagedTests : IAsyncLifetime
{
    private AwsTestBed _bed = null!;
    private AwsEmulator Aws => _bed.Aws;
    private const string Region = "us-east-1";
    private static readonly OperationOptions Options = OperationOptions.Default;

    public async Task InitializeAsync() => _bed = await AwsTestBed.StartAsync();
    public async Task DisposeAsync() => await _bed.DisposeAsync();

    internal static ClusterId Id(string name = "shop") => new(CloudProvider.Aws, ClusterType.Managed, name, Region);
    internal static ClusterSpec Spec(string name = "shop") => new() { Id = Id(name) };

    [Fact]
    public async Task Create_get_switch_resize_delete_leaves_nothing_in_AWS()
    {
        AwsTestBed.UseEnvironmentCredential();
        using var manager = _bed.NewManager();

        var state = await manager.CreateAsync(Spec() with { NodeCount = 2, NodeSize = "m7g.large", KubernetesVersion = "1.33" }, Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal("1.33", state.KubernetesVersion);
        var cluster = Assert.Single(Aws.All("eks-cluster"));
        Assert.Equal("shop", cluster.Fields["name"]);
        Assert.Equal(("shop", Region), (cluster.Tags["ksctl-cluster"], cluster.Tags["ksctl-region"]));
        Assert.Equal("API", cluster.Fields["mode"]);
        Assert.False((bool)cluster.Fields["bootstrapAdmin"]!);
        // The creator is cluster admin through an explicit access entry.
        Assert.Equal([$"arn:aws:iam::{AwsEmulator.Account}:user/ksctl-tests"], Aws.EksAdmins(Region, "shop"));
        // Roles: trust and the AWS-managed policies EKS needs.
        var roles = Aws.All("role").ToDictionary(r => (string)r.Fields["name"]!);
        Assert.Equal(["ksctl-shop-us-east-1-eks-cluster", "ksctl-shop-us-east-1-eks-nodes"], roles.Keys.Order());
        Assert.Equal("eks.amazonaws.com", roles["ksctl-shop-us-east-1-eks-cluster"].Fields["trusted"]);
        Assert.Equal(["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"], (HashSet<string>)roles["ksctl-shop-us-east-1-eks-cluster"].Fields["policies"]!);
        Assert.Equal(EksPolicies.NodeRolePolicies.Order(), ((HashSet<string>)roles["ksctl-shop-us-east-1-eks-nodes"].Fields["policies"]!).Order());
        // The node group: size, Graviton AMI for m7g, both subnets (two zones).
        var group = Assert.Single(Aws.All("eks-nodegroup"));
        Assert.Equal("AL2023_ARM_64_STANDARD", group.Fields["amiType"]);
        Assert.Equal(["m7g.large"], (List<string>)group.Fields["instanceTypes"]!);
        Assert.Equal(2, Aws.EksNodeCount(Region, "shop", EksNames.NodegroupName));
        Assert.Equal(2, ((List<string>)group.Fields["subnets"]!).Count);
        AssertEachMadeOnce();
        Assert.True(Aws.Count("eks", "DescribeCluster") >= 2, "the cluster was polled until ACTIVE");
        Assert.Contains(_bed.Events.All, e => e.Step == EksControlPlane.ClusterKey && e.Message.Contains("Waiting for EKS cluster"));
        // The kubeconfig: endpoint, CA, and an exec entry that makes the token (no secret in it).
        const string context = "shop-us-east-1-managed-aws-ksctl";
        Assert.Equal(context, state.ContextName);
        var kubeconfig = KubeconfigFile.Parse(state.Secrets[ClusterState.KubeconfigSecret], "state");
        Assert.Equal(state.Endpoint, Assert.Single(kubeconfig.Clusters).ClusterEndpoint.Server);
        Assert.StartsWith("https://", state.Endpoint);
        Assert.False(string.IsNullOrEmpty(kubeconfig.Clusters.Single().ClusterEndpoint.CertificateAuthorityData));
        var exec = Assert.Single(kubeconfig.Users).UserCredentials.ExternalExecution;
        Assert.Equal("client.authentication.k8s.io/v1beta1", exec.ApiVersion);
        Assert.Equal(EksKubeconfig.AwsCliOnPath() ? "aws" : "ksctl", exec.Command);
        Assert.Contains("shop", exec.Arguments);
        Assert.Contains(Region, exec.Arguments);

        Assert.Equal(ClusterStatus.Running, (await manager.GetAsync(Id(), CancellationToken.None)).Status);
        var path = Path.Combine(_bed.Home, "kube", "config");
        await manager.SwitchContextAsync(Id(), path, CancellationToken.None);
        Assert.Equal(context, KubeconfigFile.Parse(await File.ReadAllTextAsync(path), path).CurrentContext);

        var plan = await manager.PlanResizeNodesAsync(Id(), 4, CancellationToken.None);
        Assert.Equal(["eks:scale-nodegroup"], plan.Steps.Select(s => s.Name));
        var resized = await manager.ResizeNodesAsync(Id(), 4, Options, CancellationToken.None);
        Assert.Equal((ClusterStatus.Running, 4), (resized.Status, resized.Spec.NodeCount));
        Assert.Equal(4, Aws.EksNodeCount(Region, "shop", EksNames.NodegroupName));
        Assert.Equal(1, Aws.Count("eks", "UpdateNodegroupConfig"));

        await manager.DeleteAsync(Id(), Options, CancellationToken.None);

        Assert.Empty(Aws.Inventory);
        await Assert.ThrowsAsync<ClusterNotFoundException>(() => manager.GetAsync(Id(), CancellationToken.None));
        Assert.DoesNotContain(AwsEmulator.SecretKey, await _bed.AllOutputAsync());
    }

    [Fact]
    public async Task A_role_IAM_has_not_propagated_yet_is_retried_until_EKS_can_assume_it()
    {
        AwsTestBed.UseEnvironmentCredential();
        Aws.FreshRoleRefusals = 3;
        using var manager = _bed.NewManager();

        var state = await manager.CreateAsync(Spec(), Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal(3, Aws.Requests.Count(r => r.Action == "CreateCluster" && r.ErrorCode == "InvalidParameterException"));
        Assert.Equal(3, Aws.Requests.Count(r => r.Action == "CreateNodegroup" && r.ErrorCode == "InvalidParameterException"));
        Assert.Equal(1, Aws.Creates["eks-cluster"]);
        Assert.Equal(1, Aws.Creates["eks-nodegroup"]);
    }

    [Fact]
    public async Task Throttling_ResourceInUse_and_a_lost_answer_still_make_each_resource_once()
    {
        AwsTestBed.UseEnvironmentCredential();
        Aws.ThrottleFraction = 0.2;
        // CreateCluster is carried out but its answer lost: the retry repeats the clientRequestToken and gets the same cluster.
        Aws.DropAnswerOf("eks:CreateCluster");
        Aws.DropAnswerOf("iam:CreateRole");
        Aws.FailNext("eks:UpdateNodegroupConfig", 409, "ResourceInUseException", "Nodegroup ksctl-nodes is currently in UPDATING state, cannot update.");
        Aws.FailNext("eks:DeleteCluster", 409, "ResourceInUseException", "Cluster has nodegroups attached");
        Aws.FailNext("eks:DeleteNodegroup", 409, "ResourceInUseException", "Nodegroup ksctl-nodes is currently in UPDATING state.");
        using var manager = _bed.NewManager();

        var state = await manager.CreateAsync(Spec(), Options, CancellationToken.None);
        await manager.ResizeNodesAsync(Id(), 3, Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.True(Aws.Throttled > 0);
        Assert.Contains(Aws.Requests, r => r.ErrorCode == "ThrottlingException");
        Assert.Contains(Aws.Requests, r => r.ErrorCode == "Throttling");
        AssertEachMadeOnce();
        Assert.Equal(3, Aws.EksNodeCount(Region, "shop", EksNames.NodegroupName));

        await manager.DeleteAsync(Id(), Options, CancellationToken.None);
        Assert.Empty(Aws.Inventory);
        Assert.Contains(Aws.Requests, r => r.Action == "DeleteCluster" && r.ErrorCode == "ResourceInUseException");
    }

    [Fact]
    public async Task Cancelled_while_the_cluster_is_CREATING_then_resumed_without_duplicates()
    {
        AwsTestBed.UseEnvironmentCredential();
        Aws.EksDescribesPerTransition = 4;
        using var cts = new CancellationTokenSource();
        // Ctrl+C while EKS reports the cluster CREATING (the first DescribeCluster).
        Aws.EksObserver = call => { if (call.Action == "DescribeCluster") cts.Cancel(); };
        using (var first = _bed.NewManager())
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.CreateAsync(Spec(), Options, cts.Token));
        Aws.EksObserver = null;

        using var manager = _bed.NewManager();
        var stopped = await manager.GetAsync(Id(), CancellationToken.None);
        Assert.NotEqual(ClusterStatus.Running, stopped.Status);
        Assert.Equal(StepOutcome.Done, Assert.Single(stopped.Steps, s => s.Key.EndsWith(EksRoles.ClusterKey, StringComparison.Ordinal)).Value.Outcome);
        Assert.Empty(Aws.All("eks-nodegroup"));

        var state = await manager.CreateAsync(Spec(), Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        AssertEachMadeOnce();
        Assert.Equal(1, Aws.Requests.Count(r => r.Action == "CreateCluster" && r.Status == 200));
    }

    [Fact]
    public async Task Self_managed_settings_and_a_node_count_below_one_on_resize_are_refused()
    {
        AwsTestBed.UseEnvironmentCredential();
        using var manager = _bed.NewManager();
        var e = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.CreateAsync(Spec() with { WorkerCount = 3 }, Options, CancellationToken.None));
        Assert.Equal("WorkerCount", e.Parameter);
        Assert.Empty(Aws.Requests);

        await manager.CreateAsync(Spec(), Options, CancellationToken.None);
        var before = Aws.Requests.Count;
        var resize = await Assert.ThrowsAsync<InvalidSpecException>(() => manager.ResizeNodesAsync(Id(), 0, Options, CancellationToken.None));
        Assert.Equal("NodeCount", resize.Parameter);
        Assert.Equal(before, Aws.Requests.Count);
        Assert.Equal(ClusterStatus.Running, (await manager.GetAsync(Id(), CancellationToken.None)).Status);
    }

    [Fact]
    public async Task A_role_of_the_same_name_not_made_by_Ksctl_is_neither_used_nor_deleted()
    {
        AwsTestBed.UseEnvironmentCredential();
        var foreign = new AwsResource { Kind = "role", Id = "role/ksctl-shop-us-east-1-eks-cluster", Region = "global" };
        foreign.Fields["name"] = "ksctl-shop-us-east-1-eks-cluster";
        foreign.Fields["arn"] = $"arn:aws:iam::{AwsEmulator.Account}:role/ksctl-shop-us-east-1-eks-cluster";
        foreign.Fields["roleId"] = "AROAFOREIGN";
        foreign.Fields["document"] = EksPolicies.ClusterTrust;
        foreign.Fields["trusted"] = "eks.amazonaws.com";
        foreign.Fields["policies"] = new HashSet<string>();
        foreign.Fields["refusals"] = 0;
        Aws.Add(foreign);
        using var manager = _bed.NewManager();

        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => manager.CreateAsync(Spec(), Options, CancellationToken.None));
        Assert.Equal("KsctlCreationFailed", e.ErrorId);
        Assert.Contains((await manager.GetAsync(Id(), CancellationToken.None)).LastErrors, m => m.Contains("is not tagged ksctl-cluster=shop"));
        Assert.Empty(Aws.All("eks-cluster"));

        await manager.DeleteAsync(Id(), Options, CancellationToken.None).ContinueWith(_ => { });
        // The foreign role is still there, untouched; Ksctl's own node role went.
        Assert.NotNull(Aws.Find(foreign.Id));
        Assert.Equal(["ksctl-shop-us-east-1-eks-cluster"], Aws.All("role").Select(r => (string)r.Fields["name"]!));
        Assert.Equal("AROAFOREIGN", Aws.Find(foreign.Id)!.Fields["roleId"]);
    }

    [Fact]
    public async Task A_node_group_EKS_reports_CREATE_FAILED_fails_with_its_issue_and_is_replaced_on_resume()
    {
        AwsTestBed.UseEnvironmentCredential();
        // Once the cluster exists, the subnets stop assigning public addresses: the nodes cannot join.
        Aws.EksObserver = call =>
        {
            if (call.Action == "CreateCluster") foreach (var subnet in Aws.All("subnet")) lock (subnet.Fields) subnet.Fields["mapPublicIp"] = false;
        };
        using var manager = _bed.NewManager();

        var e = await Assert.ThrowsAnyAsync<KsctlException>(() => manager.CreateAsync(Spec(), Options, CancellationToken.None));

        Assert.Contains("CREATE_FAILED", e.InnerException?.Message ?? e.Message);
        var failed = await manager.GetAsync(Id(), CancellationToken.None);
        Assert.Equal(ClusterStatus.CreationFailed, failed.Status);
        Assert.Contains(failed.LastErrors, m => m.Contains("Ec2SubnetInvalidConfiguration") && m.Contains("auto-assign public IP"));

        // The cause is fixed (public addresses again), and the same command resumes.
        Aws.EksObserver = null;
        foreach (var subnet in Aws.All("subnet")) lock (subnet.Fields) subnet.Fields["mapPublicIp"] = true;
        var state = await manager.CreateAsync(Spec(), Options, CancellationToken.None);

        Assert.Equal(ClusterStatus.Running, state.Status);
        Assert.Equal(1, Aws.Count("eks", "DeleteNodegroup"));
        Assert.Equal(2, Aws.Creates["eks-nodegroup"]); // the failed one, deleted, and its replacement
        Assert.Equal(1, Aws.Creates["eks-cluster"]);
        await manager.DeleteAsync(Id(), Options, CancellationToken.None);
        Assert.Empty(Aws.Inventory);
    }

    [Fact]
    public async Task A_cluster_created_with_ProfileName_has_that_profile_as_AWS_PROFILE_in_its_kubeconfig_exec()
    {
        var config = Path.Combine(_bed.Home, "aws-config");
        File.WriteAllText(config, $"[profile team-dev]\naws_access_key_id = {AwsEmulator.AccessKeyId}\naws_secret_access_key = {AwsEmulator.SecretKey}\n");
        Environment.SetEnvironmentVariable("AWS_CONFIG_FILE", config);
        using var manager = _bed.NewManager();

        var state = await manager.CreateAsync(Spec(), Options with { Credential = new Ksctl.Core.Providers.ProviderCredential { ProfileName = "team-dev" } }, CancellationToken.None);

        var exec = KubeconfigFile.Parse(state.Secrets[ClusterState.KubeconfigSecret], "state").Users.Single().UserCredentials.ExternalExecution;
        var env = Assert.Single(exec.EnvironmentVariables);
        Assert.Equal(("AWS_PROFILE", "team-dev"), (env["name"], env["value"]));
        Assert.Contains("shop", exec.Arguments);
    }

    /// <summary>Two roles, two subnets, one of everything else: nothing was made twice.</summary>
    private void AssertEachMadeOnce()
    {
        var expected = new Dictionary<string, int>
        {
            ["role"] = 2, ["vpc"] = 1, ["subnet"] = 2, ["internet-gateway"] = 1, ["route-table"] = 1,
            ["eks-cluster"] = 1, ["eks-access-entry"] = 1, ["eks-nodegroup"] = 1,
        };
        Assert.Equal(expected, Aws.Creates.ToDictionary(c => c.Key, c => c.Value));
    }
}
