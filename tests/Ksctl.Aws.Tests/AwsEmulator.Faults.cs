using System.Collections.Concurrent;

namespace Ksctl.Aws.Tests;

/// <summary>
/// Faults on demand. A fraction of every service's calls is throttled with the service's own code and status
/// (EC2: 503 RequestLimitExceeded, "Request rate limiting" in the EC2 API reference; STS/IAM: 400 Throttling; JSON
/// services: 400 ThrottlingException; REST-JSON: 429 ThrottlingException). One-shot errors for a "service:Action"
/// (InsufficientInstanceCapacity, UnauthorizedOperation...), and lost answers: the request is carried out, then the
/// connection is dropped before the answer, as when a network fails after AWS acted (the client retries: only an
/// idempotent request, a RunInstances with its ClientToken, may be repeated safely).
/// </summary>
public sealed partial class AwsEmulator
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<(int Status, string Code, string Message)>> _oneShot = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _drops = new(StringComparer.Ordinal);
    private double _throttleCredit;

    /// <summary>The fraction (0..1) of authenticated calls of every service answered with its throttling error.</summary>
    public double ThrottleFraction { get; set; }

    /// <summary>How many answers were lost on purpose (the request was carried out).</summary>
    public int AnswersDropped { get; private set; }

    /// <summary>How many calls were throttled.</summary>
    public int Throttled { get; private set; }

    /// <summary>Fails the next call of <paramref name="serviceAction"/> ("ec2:RunInstances") with this error, once per call.</summary>
    public void FailNext(string serviceAction, int status, string code, string message) =>
        _oneShot.GetOrAdd(serviceAction, _ => new()).Enqueue((status, code, message));

    /// <summary>Carries out the next <paramref name="times"/> calls of <paramref name="serviceAction"/>, then drops the connection.</summary>
    public void DropAnswerOf(string serviceAction, int times = 1) => _drops.AddOrUpdate(serviceAction, times, (_, n) => n + times);

    private async Task<bool> InjectedFaultAsync(AwsCall call)
    {
        var info = call.Info;
        var action = call.Action ?? ActionOf(call);
        if (action is not null && _oneShot.TryGetValue($"{call.Service}:{action}", out var queue) && queue.TryDequeue(out var f))
        {
            call.Action ??= action;
            await WriteErrorAsync(call.Http, info, f.Status, f.Code, f.Message, call.RequestId);
            return true;
        }
        bool throttle;
        lock (_gate)
        {
            throttle = ThrottleFraction > 0 && (_throttleCredit += ThrottleFraction) >= 1;
            if (throttle) { _throttleCredit -= 1; Throttled++; }
        }
        if (!throttle) return false;
        var (status, code) = info.Protocol switch
        {
            AwsProtocol.Ec2Query => (503, "RequestLimitExceeded"),
            AwsProtocol.Query => (400, "Throttling"),
            AwsProtocol.Json => (400, "ThrottlingException"),
            _ => (429, "ThrottlingException"),
        };
        await WriteErrorAsync(call.Http, info, status, code, "Rate exceeded", call.RequestId);
        return true;
    }

    /// <summary>Whether this call's answer is to be lost (counts one drop of its action down).</summary>
    private bool TakeDrop(AwsCall call)
    {
        if ((call.Action ?? ActionOf(call)) is not { } action) return false;
        var key = $"{call.Service}:{action}";
        while (_drops.TryGetValue(key, out var n) && n > 0)
            if (_drops.TryUpdate(key, n - 1, n))
            {
                lock (_gate) AnswersDropped++;
                return true;
            }
        return false;
    }

    /// <summary>The operation a call names before its handler parses it (query Action, JSON target suffix).</summary>
    private static string? ActionOf(AwsCall call)
    {
        if (call.Info.Protocol == AwsProtocol.RestJson) return RestOperationOf(call); // REST: the route names it (AwsEmulator.Eks.cs)
        if (call.Param("Action") is { } a) return a;
        var target = call.Http.Request.Headers["X-Amz-Target"].ToString();
        var dot = target.LastIndexOf('.');
        return dot < 0 ? null : target[(dot + 1)..];
    }
}
