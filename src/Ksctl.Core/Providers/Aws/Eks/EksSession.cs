using Amazon.EC2;

namespace Ksctl.Core.Providers.Aws.Eks;

/// <summary>The clients of one step on one EKS cluster, signed with the operation's credentials; <c>owner</c> holds the SDK clients.</summary>
internal sealed class EksSession(IamClient iam, EksClient eks, IAmazonEC2 ec2, Func<CancellationToken, Task<string>> callerArn, IDisposable owner, EksTimings timings) : IDisposable
{
    public EksTimings Timings { get; } = timings;
    public IamClient Iam { get; } = iam;
    public EksClient Eks { get; } = eks;
    public IAmazonEC2 Ec2 { get; } = ec2;

    /// <summary>The ARN STS GetCallerIdentity returns for the credentials (the principal made cluster admin).</summary>
    public Func<CancellationToken, Task<string>> CallerArn { get; } = callerArn;

    public void Dispose()
    {
        Iam.Dispose();
        Eks.Dispose();
        owner.Dispose(); // the SDK clients (EC2, STS) of the operation
    }
}

/// <summary>Opens a session for a running step (the provider resolves credentials and endpoints once per operation).</summary>
internal delegate Task<EksSession> EksSessionSource(Engine.StepContext ctx, CancellationToken ct);
