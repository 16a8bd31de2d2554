using Ksctl.Core.Diagnostics;
using Ksctl.Core.Upgrade;

namespace Ksctl.SelfManaged.Tests;

/// <summary>
/// The version skew rules every upgrade is checked against before anything is touched (Kubernetes version skew policy,
/// kubeadm's upgrade guide): one minor at a time, no downgrade, distributions' suffixes ignored, "already there" is no change.
/// </summary>
public sealed class UpgradeSkewRulesTests
{
    [Theory]
    [InlineData("1.33.1", "1.34.0")]
    [InlineData("1.33.1", "1.34.9")]
    [InlineData("1.33.1", "1.33.2")]
    [InlineData("1.30.5-k3s1", "1.31.2-k3s1")]
    [InlineData("v1.33.1+k3s1", "1.34.1")]
    [InlineData("1.41.5", "1.42")]
    public void One_minor_or_a_patch_up_is_an_upgrade(string from, string to) => Assert.True(VersionSkew.Check(from, to));

    [Theory]
    [InlineData("1.33.1", "1.33.1")]
    [InlineData("1.42.4", "1.42")]
    [InlineData("1.31.2-k3s1", "1.31.2-k3s1")]
    public void The_version_the_cluster_runs_is_no_change(string from, string to) => Assert.False(VersionSkew.Check(from, to));

    [Theory]
    [InlineData("1.33.1", "1.35.0", "skips minor versions: from 1.33 the next upgrade is to 1.34")]
    [InlineData("1.33.1", "1.33.0", "downgrades are not supported")]
    [InlineData("1.33.1", "1.32.9", "downgrades are not supported")]
    [InlineData("1.42.4", "1.41", "downgrades are not supported")]
    [InlineData("1.33.1", "2.0.0", "major version")]
    [InlineData("1.33.1", "latest", "is not a Kubernetes version")]
    [InlineData("garbage", "1.34.0", "cannot be read")]
    public void Skew_is_refused_naming_the_parameter_and_the_rule(string from, string to, string rule)
    {
        var error = Assert.Throws<InvalidSpecException>(() => VersionSkew.Check(from, to));
        Assert.Equal("KubernetesVersion", error.Parameter);
        Assert.Equal("KsctlInvalidSpec", error.ErrorId);
        Assert.Contains(rule, error.Message);
        Assert.StartsWith("Invalid value for -KubernetesVersion:", error.Message);
    }
}
