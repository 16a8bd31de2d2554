using System.Text.Json.Nodes;
using Amazon.Runtime;
using Ksctl.Core.Providers.Aws;
using Ksctl.Core.Providers.Aws.Eks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ksctl.Aws.Tests;

/// <summary>
/// Ksctl's IAM and EKS clients against the emulator's IAM and EKS: the requests are signed by the SDK's signer and
/// accepted, and the emulator refuses what the services refuse, with their codes, which the clients raise verbatim.
/// Source of each expected code: botocore data/iam/2010-05-08/service-2.json (NoSuchEntity, EntityAlreadyExists,
/// DeleteConflict, MalformedPolicyDocument, ValidationError) and data/eks/2017-11-01/service-2.json
/// (ResourceNotFoundException, InvalidParameterException, ResourceInUseException).
/// </summary>
[Collection(AwsEnvironmentCollection.Name)]
public sealed class EksEmulatorRulesTests : IAsyncLifetime
{
    private AwsTestBed _bed = null!;
    private IamClient _iam = null!;
    private EksClient _eks = null!;

    public async Task InitializeAsync()
    {
        _bed = await AwsTestBed.StartAsync();
        var endpoints = EksEndpoints.From(_bed.Endpoints, "us-east-1");
        var credentials = new BasicAWSCredentials(AwsEmulator.AccessKeyId, AwsEmulator.SecretKey);
        var timings = EksTimings.For(_bed.Endpoints);
        _iam = new IamClient(endpoints, credentials, timings, NullLogger.Instance);
        _eks = new EksClient(endpoints, "us-east-1", credentials, timings, NullLogger.Instance);
    }

    public async Task DisposeAsync()
    {
        _iam.Dispose();
        _eks.Dispose();
        await _bed.DisposeAsync();
    }

    private static Dictionary<string, string> Tags => new() { ["ksctl-cluster"] = "x" };

    [Fact]
    public async Task IAM_roles_exist_once_refuse_deletion_while_policies_are_attached_and_are_gone_after()
    {
        var role = await _iam.CreateRoleAsync("r1", EksPolicies.ClusterTrust, "test", Tags, CancellationToken.None);
        Assert.Equal($"arn:aws:iam::{AwsEmulator.Account}:role/r1", role.Arn);
        Assert.Equal("x", role.Tags["ksctl-cluster"]);
        var again = await Assert.ThrowsAsync<AwsApiException>(() => _iam.CreateRoleAsync("r1", EksPolicies.ClusterTrust, "test", Tags, CancellationToken.None));
        Assert.Equal(("EntityAlreadyExists", 409), (again.Code, again.Status));

        await _iam.AttachRolePolicyAsync("r1", EksPolicies.ClusterPolicy, CancellationToken.None);
        var unknown = await Assert.ThrowsAsync<AwsApiException>(() => _iam.AttachRolePolicyAsync("r1", "arn:aws:iam::aws:policy/NoSuchPolicy", CancellationToken.None));
        Assert.Equal(("NoSuchEntity", 404), (unknown.Code, unknown.Status));
        Assert.Equal([EksPolicies.ClusterPolicy], await _iam.ListAttachedRolePoliciesAsync("r1", CancellationToken.None));

        var conflict = await Assert.ThrowsAsync<AwsApiException>(() => _iam.DeleteRoleAsync("r1", CancellationToken.None));
        Assert.Equal(("DeleteConflict", 409), (conflict.Code, conflict.Status));
        await _iam.DetachRolePolicyAsync("r1", EksPolicies.ClusterPolicy, CancellationToken.None);
        await _iam.DeleteRoleAsync("r1", CancellationToken.None);
        Assert.Null(await _iam.GetRoleAsync("r1", CancellationToken.None));
        Assert.Empty(_bed.Aws.Inventory);
    }

    [Fact]
    public async Task IAM_refuses_bad_names_and_malformed_trust_policies()
    {
        var name = await Assert.ThrowsAsync<AwsApiException>(() => _iam.CreateRoleAsync("bad name!", EksPolicies.ClusterTrust, "", Tags, CancellationToken.None));
        Assert.Equal("ValidationError", name.Code);
        var tooLong = await Assert.ThrowsAsync<AwsApiException>(() => _iam.CreateRoleAsync(new string('a', 65), EksPolicies.ClusterTrust, "", Tags, CancellationToken.None));
        Assert.Equal("ValidationError", tooLong.Code);
        var policy = await Assert.ThrowsAsync<AwsApiException>(() => _iam.CreateRoleAsync("r2", "{not json", "", Tags, CancellationToken.None));
        Assert.Equal("MalformedPolicyDocument", policy.Code);
        Assert.Empty(_bed.Aws.Inventory);
    }

    [Fact]
    public async Task EKS_refuses_unknown_roles_unknown_subnets_and_unknown_clusters_with_its_codes()
    {
        var missing = await _eks.DescribeClusterAsync("nope", CancellationToken.None);
        Assert.Null(missing);
        var delete = await Assert.ThrowsAsync<AwsApiException>(() => _eks.DeleteClusterAsync("nope", CancellationToken.None));
        Assert.Equal(("ResourceNotFoundException", 404), (delete.Code, delete.Status));

        var body = new JsonObject
        {
            ["name"] = "c1",
            ["roleArn"] = $"arn:aws:iam::{AwsEmulator.Account}:role/none",
            ["resourcesVpcConfig"] = new JsonObject { ["subnetIds"] = new JsonArray("subnet-0a00000000000001", "subnet-0a00000000000002") },
        };
        var subnets = await Assert.ThrowsAsync<AwsApiException>(() => _eks.CreateClusterAsync(body, CancellationToken.None));
        Assert.Equal(("InvalidParameterException", 400), (subnets.Code, subnets.Status));
        Assert.Contains("does not exist", subnets.Message);

        var badName = await Assert.ThrowsAsync<AwsApiException>(() => _eks.CreateClusterAsync(new JsonObject { ["name"] = "-bad" }, CancellationToken.None));
        Assert.Equal("InvalidParameterException", badName.Code);
        Assert.Empty(_bed.Aws.Inventory);
    }

    [Fact]
    public async Task A_fresh_role_is_refused_by_EKS_as_not_assumable_then_accepted()
    {
        _bed.Aws.FreshRoleRefusals = 1;
        var role = await _iam.CreateRoleAsync("r3", EksPolicies.ClusterTrust, "", Tags, CancellationToken.None);
        AddSubnet("subnet-0b00000000000001", "vpc-0b00000000000001", "us-east-1a");
        AddSubnet("subnet-0b00000000000002", "vpc-0b00000000000001", "us-east-1b");
        AddSubnet("subnet-0b00000000000003", "vpc-0b00000000000001", "us-east-1a");
        JsonObject Body(params string[] subnets) => new()
        {
            ["name"] = "c2", ["roleArn"] = role.Arn, ["clientRequestToken"] = "t1",
            ["resourcesVpcConfig"] = new JsonObject { ["subnetIds"] = new JsonArray(subnets.Select(s => (JsonNode)JsonValue.Create(s)).ToArray()) },
        };

        var oneZone = await Assert.ThrowsAsync<AwsApiException>(() => _eks.CreateClusterAsync(Body("subnet-0b00000000000001", "subnet-0b00000000000003"), CancellationToken.None));
        Assert.Contains("at least two different AZs", oneZone.Message);
        var fresh = await Assert.ThrowsAsync<AwsApiException>(() => _eks.CreateClusterAsync(Body("subnet-0b00000000000001", "subnet-0b00000000000002"), CancellationToken.None));
        Assert.True(EksControlPlane.IsRoleNotReady(fresh), fresh.Message);

        var created = await _eks.CreateClusterAsync(Body("subnet-0b00000000000001", "subnet-0b00000000000002"), CancellationToken.None);
        Assert.Equal("CREATING", created.Status);
        Assert.Null(created.Endpoint);
        // The same clientRequestToken is the same request (idempotent); another is a second cluster of that name.
        Assert.Equal("c2", (await _eks.CreateClusterAsync(Body("subnet-0b00000000000001", "subnet-0b00000000000002"), CancellationToken.None)).Name);
        var other = Body("subnet-0b00000000000001", "subnet-0b00000000000002");
        other["clientRequestToken"] = "t2";
        var inUse = await Assert.ThrowsAsync<AwsApiException>(() => _eks.CreateClusterAsync(other, CancellationToken.None));
        Assert.Equal(("ResourceInUseException", 409), (inUse.Code, inUse.Status));
        Assert.Equal(1, _bed.Aws.Creates["eks-cluster"]);

        // A node group needs an ACTIVE cluster.
        var early = await Assert.ThrowsAsync<AwsApiException>(() => _eks.CreateNodegroupAsync("c2", new JsonObject
        {
            ["nodegroupName"] = "g", ["subnets"] = new JsonArray("subnet-0b00000000000001"), ["nodeRole"] = role.Arn,
        }, CancellationToken.None));
        Assert.Equal("InvalidRequestException", early.Code);
        EksCluster? now = null;
        for (var i = 0; i < 5 && now?.Status != "ACTIVE"; i++) now = await _eks.DescribeClusterAsync("c2", CancellationToken.None);
        Assert.Equal("ACTIVE", now!.Status);
        Assert.StartsWith("https://", now.Endpoint);
        Assert.False(string.IsNullOrEmpty(now.CertificateAuthority));
    }

    private void AddSubnet(string id, string vpc, string zone)
    {
        var subnet = new AwsResource { Kind = "subnet", Id = id, Region = "us-east-1" };
        subnet.Fields["vpc"] = vpc;
        subnet.Fields["az"] = zone;
        _bed.Aws.Add(subnet);
    }
}
