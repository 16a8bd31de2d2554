using System.Management.Automation;
using Ksctl.Aws.Tests;
using Xunit;

namespace Ksctl.PowerShell.Tests;

/// <summary>
/// -Region and -NodeSize of AWS complete live through the real engine's completer (CommandCompletion.CompleteInput, what
/// TabExpansion2 calls): EC2's DescribeRegions and DescribeInstanceTypeOfferings, answered by the AWS emulator (SigV4
/// checked), reached through the SDKs' standard AWS_ENDPOINT_URL. Without a credential at hand the static lists show
/// and nothing is sent.
/// </summary>
[Collection(PowerShellCollection.Name)]
public sealed class AwsLiveCompletionTests
{
    private static List<string> Complete(KsctlSession session, string input)
    {
        using var ps = System.Management.Automation.PowerShell.Create(session.Runspace);
        var result = CommandCompletion.CompleteInput(input, input.Length, null, ps);
        return result.CompletionMatches.Select(m => m.CompletionText).ToList();
    }

    [Fact]
    public async Task Aws_region_and_instance_type_complete_live_from_EC2_with_a_credential_and_from_the_static_list_without()
    {
        await using var aws = await AwsEmulator.StartAsync();
        aws.Regions.Add("us-ksctltest-9");
        aws.InstanceTypes.Add("x8g.metal-48xl");
        using var session = new KsctlSession();
        using var budget = LiveCompletionTests.LiveLookupBudget.Set(session, TimeSpan.FromMinutes(1));
        // The module's live cache lives as long as the process: what an earlier test's Tab left (an AWS failure, the
        // static list) must not answer for this one, nor this one's emulator lists for later tests.
        ClearLiveCache(session);
        try
        {
            await CompleteAsync(aws, session);
        }
        finally
        {
            foreach (var name in new[] { "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY" }) Environment.SetEnvironmentVariable(name, null);
            ClearLiveCache(session);
        }
    }

    /// <summary>LiveCatalogCache.Clear() of the module as the runspace loaded it (internal: reached through the loaded module).</summary>
    private static void ClearLiveCache(KsctlSession session)
    {
        var module = session.RunClean("(Get-Module Ksctl).ImplementingAssembly").Output.Select(o => o.BaseObject).OfType<System.Reflection.Assembly>().Single();
        module.GetType("Ksctl.PowerShell.Completers.LiveCatalogCache", throwOnError: true)!
            .GetMethod("Clear", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)!
            .Invoke(null, null);
    }

    private static Task CompleteAsync(AwsEmulator aws, KsctlSession session)
    {
        Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL", aws.BaseUrl.ToString());

        // No credential at hand: the static list, no request. (The module caches each list for the session, answers
        // and failures alike, so each step asks for a list of its own.)
        var offline = Complete(session, "New-KsctlCluster demo -Provider Aws -Region ap-south-1 -NodeSize t3.");
        Assert.Contains("t3.medium", offline);
        Assert.DoesNotContain("x8g.metal-48xl", Complete(session, "New-KsctlCluster demo -Provider Aws -Region ap-south-1 -NodeSize x8g."));
        Assert.Empty(aws.Requests);

        // Keys in the environment (what a CI job has): EC2's own lists.
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", AwsEmulator.AccessKeyId);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", AwsEmulator.SecretKey);
        Assert.Contains("us-ksctltest-9", Complete(session, "New-KsctlCluster demo -Provider Aws -Type Managed -Region us-k"));
        var sizes = Complete(session, "New-KsctlCluster demo -Provider Aws -Region eu-west-1 -NodeSize x8g.");
        Assert.Contains("x8g.metal-48xl", sizes);
        Assert.All(sizes, s => Assert.StartsWith("x8g.", s));
        Assert.Contains(aws.Requests, r => r.Service == "ec2" && r.Action == "DescribeRegions" && r.Status == 200 && r.AccessKeyId == AwsEmulator.AccessKeyId);
        Assert.Contains(aws.Requests, r => r.Service == "ec2" && r.Action == "DescribeInstanceTypeOfferings" && r.Status == 200);
        var asked = aws.Requests.Count;

        // Cached for the session: Tab again asks nothing.
        Assert.Contains("us-ksctltest-9", Complete(session, "New-KsctlCluster demo -Provider Aws -Region us-"));
        Assert.Equal(asked, aws.Requests.Count);
        return Task.CompletedTask;
    }
}
