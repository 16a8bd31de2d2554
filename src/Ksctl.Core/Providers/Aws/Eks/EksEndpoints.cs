namespace Ksctl.Core.Providers.Aws.Eks;

/// <summary>
/// Where the services Ksctl calls over its own HTTPS client are: IAM (global, signed for us-east-1), EKS and STS
/// (regional). The public endpoints come from the AWS endpoint rule sets (botocore data/iam, data/eks, data/sts
/// endpoint-rule-set-1.json: iam.amazonaws.com, eks.{region}.amazonaws.com, sts.{region}.amazonaws.com); tests point
/// all three at the emulator and supply a handler that trusts its certificate.
/// </summary>
internal sealed record EksEndpoints(Uri Iam, Func<string, Uri> Eks, Func<string, Uri> Sts)
{
    /// <summary>The provider's endpoints (the public ones, or every service at the emulator in tests) for <paramref name="region"/>.</summary>
    public static EksEndpoints From(AwsEndpoints endpoints, string region) =>
        new(endpoints.For(AwsEndpoints.Iam, region), r => endpoints.For(AwsEndpoints.Eks, r), r => endpoints.For(AwsEndpoints.Sts, r))
        {
            IamSigningRegion = AwsEndpoints.SigningRegion(AwsEndpoints.Iam, region),
        };

    public static readonly EksEndpoints Public = new(
        new Uri("https://iam.amazonaws.com/"),
        region => new Uri($"https://eks.{region}.amazonaws.com/"),
        region => new Uri($"https://sts.{region}.amazonaws.com/"));

    /// <summary>The innermost handler (null: the default sockets handler). Tests trust the emulator's certificate here.</summary>
    public Func<HttpMessageHandler>? Handler { get; init; }

    /// <summary>IAM is a global service: requests are signed for us-east-1 in the aws partition (cn-north-1 in China).</summary>
    public string IamSigningRegion { get; init; } = "us-east-1";
}
