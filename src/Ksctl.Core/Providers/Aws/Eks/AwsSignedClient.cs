using System.Net;
using Amazon.Runtime;
using Amazon.Runtime.Signing;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Aws.Eks;

/// <summary>
/// An HttpClient for one AWS service whose requests are signed by the AWS SDK's own SigV4 signer
/// (<see cref="SigV4SigningHandler"/> of AWSSDK.Core; Ksctl does no signing crypto of its own). It retries throttling
/// and 5xx answers with backoff (every call Ksctl makes through it is safe to repeat: reads, deletes, and creates that
/// carry a client token or are answered "already exists"); other errors are raised verbatim by the protocol's parser.
/// </summary>
internal sealed class AwsSignedClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly ILogger _logger;
    private readonly EksTimings _timings;
    private readonly Func<HttpResponseMessage, string, (string? Code, string? Message)> _parseError;

    public AwsSignedClient(string service, string signingRegion, Uri endpoint, AWSCredentials credentials, HttpMessageHandler? inner,
        EksTimings timings, ILogger logger, Func<HttpResponseMessage, string, (string? Code, string? Message)> parseError)
    {
        Service = service;
        Endpoint = endpoint;
        var parameters = new AWSSigV4Parameters
        {
            Credentials = credentials,
            Region = Amazon.RegionEndpoint.GetBySystemName(signingRegion),
            Service = service,
            SignPayload = true,
        };
        _http = new HttpClient(new SigV4SigningHandler(parameters, inner ?? new SocketsHttpHandler()), disposeHandler: true)
        {
            Timeout = TimeSpan.FromSeconds(100),
        };
        _timings = timings;
        _logger = logger;
        _parseError = parseError;
    }

    public string Service { get; }
    public Uri Endpoint { get; }

    /// <summary>Sends the request built by <paramref name="build"/> (fresh per attempt) and returns the body of a 2xx answer.</summary>
    public async Task<string> SendAsync(string operation, Func<HttpRequestMessage> build, CancellationToken ct)
    {
        var timings = _timings;
        for (var attempt = 1; ; attempt++)
        {
            using var request = build();
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, ct).ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (attempt < timings.MaxAttempts)
            {
                _logger.LogWarning("{Service} {Operation}: {Error}; retrying (attempt {Attempt} of {Max}).", Service, operation, e.Message, attempt, timings.MaxAttempts);
                await Task.Delay(timings.Backoff(attempt), ct).ConfigureAwait(false);
                continue;
            }
            catch (HttpRequestException e)
            {
                throw new Diagnostics.KsctlException("KsctlCloudApiError", Diagnostics.KsctlErrorCategory.ConnectionError,
                    $"Cannot reach AWS {Service} at {Endpoint}: {e.Message}", Service, e);
            }
            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                if (response.IsSuccessStatusCode) return text;
                var (code, message) = _parseError(response, text);
                var status = (int)response.StatusCode;
                var transient = status >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests || (code is not null && AwsApiException.IsThrottling(code));
                if (transient && attempt < timings.MaxAttempts)
                {
                    var wait = timings.Backoff(attempt);
                    _logger.LogWarning("{Service} {Operation} answered {Status} ({Code}); retrying in {Delay} ms (attempt {Attempt} of {Max}).",
                        Service, operation, status, code, (int)wait.TotalMilliseconds, attempt, timings.MaxAttempts);
                    await Task.Delay(wait, ct).ConfigureAwait(false);
                    continue;
                }
                throw AwsApiException.From(Service.ToUpperInvariant(), operation, status, code, message);
            }
        }
    }

    public void Dispose() => _http.Dispose();
}
