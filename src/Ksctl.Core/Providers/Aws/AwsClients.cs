using System.Net;
using Amazon.EC2;
using Amazon.Runtime;
using Amazon.SecurityToken;
using Amazon.SimpleSystemsManagement;
using Ksctl.Core.Diagnostics;

namespace Ksctl.Core.Providers.Aws;

/// <summary>
/// The SDK clients of one operation in one region, all signing with one credential, each pointed at its service's URL
/// from <see cref="AwsEndpoints"/> (the regional endpoint, or the emulator in tests) and signing for the right region.
/// Retries are the SDK's standard mode (throttling and 5xx with jittered back-off); <see cref="CallAsync{T}"/> turns
/// what still fails into Ksctl errors, AWS's code and message verbatim.
/// </summary>
internal sealed class AwsClients : IDisposable
{
    private readonly Lazy<AmazonEC2Client> _ec2;
    private readonly Lazy<AmazonSecurityTokenServiceClient> _sts;
    private readonly Lazy<AmazonSimpleSystemsManagementClient> _ssm;

    public AwsClients(AwsSignIn signIn, string region, AwsEndpoints endpoints)
    {
        SignIn = signIn;
        Region = region;
        Endpoints = endpoints;
        _ec2 = new(() => new AmazonEC2Client(signIn.Credentials, Configure(new AmazonEC2Config(), AwsEndpoints.Ec2)));
        _sts = new(() => new AmazonSecurityTokenServiceClient(signIn.Credentials, Configure(new AmazonSecurityTokenServiceConfig(), AwsEndpoints.Sts)));
        _ssm = new(() => new AmazonSimpleSystemsManagementClient(signIn.Credentials, Configure(new AmazonSimpleSystemsManagementConfig(), AwsEndpoints.Ssm)));
    }

    public AwsSignIn SignIn { get; }
    public string Region { get; }
    public AwsEndpoints Endpoints { get; }
    public AmazonEC2Client Ec2 => _ec2.Value;
    public AmazonSecurityTokenServiceClient Sts => _sts.Value;
    public AmazonSimpleSystemsManagementClient Ssm => _ssm.Value;

    private T Configure<T>(T config, string service) where T : ClientConfig
    {
        config.ServiceURL = Endpoints.For(service, Region).ToString();
        config.AuthenticationRegion = AwsEndpoints.SigningRegion(service, Region);
        config.RetryMode = RequestRetryMode.Standard;
        config.MaxErrorRetry = Endpoints.MaxErrorRetry;
        config.Timeout = TimeSpan.FromSeconds(100);
        return config;
    }

    /// <summary>One SDK call: AWS's refusals become <see cref="KsctlException"/>s (a refused credential: KsctlAuthenticationFailed).</summary>
    public async Task<T> CallAsync<T>(string service, string what, Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        try
        {
            return await call(ct).ConfigureAwait(false);
        }
        catch (AmazonServiceException e) when (e.StatusCode == 0 && e.InnerException is HttpRequestException or System.Net.Sockets.SocketException)
        {
            throw AwsErrors.Unreachable(service, Endpoints.For(service, Region), e.InnerException!);
        }
        catch (AmazonServiceException e)
        {
            throw AwsErrors.ToException(service, what, e);
        }
        catch (HttpRequestException e)
        {
            throw AwsErrors.Unreachable(service, Endpoints.For(service, Region), e);
        }
        catch (AmazonClientException e)
        {
            // The SDK refused before sending (no credential could be resolved: an SSO token that expired, a missing
            // credential_process): the credential's fault, said in the SDK's words.
            throw new KsctlException("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError,
                $"AWS {service} {what}: the credential could not be used: {e.Message}", "Aws", e);
        }
    }

    public void Dispose()
    {
        if (_ec2.IsValueCreated) _ec2.Value.Dispose();
        if (_sts.IsValueCreated) _sts.Value.Dispose();
        if (_ssm.IsValueCreated) _ssm.Value.Dispose();
    }

    internal static bool Is(AmazonServiceException e, HttpStatusCode status) => e.StatusCode == status;
}
