using Amazon.EC2.Model;
using Amazon.Runtime;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Aws;

/// <summary>
/// EC2 calls of one plan step for one cluster: every call goes through <see cref="CallAsync{T}"/>, which retries what
/// EC2 documents as eventual consistency (an Invalid*.NotFound for an id that was just created, "Eventual consistency
/// in the Amazon EC2 API") with back-off, and maps what still fails to Ksctl errors verbatim. The id of every resource
/// is recorded in state the moment EC2 returns it; a re-run finds it by that id, else by its tags, before creating.
/// </summary>
internal sealed class AwsEc2 : IDisposable
{
    private const int NotYetVisibleAttempts = 6;

    public AwsEc2(AwsClients clients, StepContext ctx, AwsProvider provider)
    {
        Clients = clients;
        Ctx = ctx;
        Provider = provider;
    }

    public AwsClients Clients { get; }
    public StepContext Ctx { get; }
    public AwsProvider Provider { get; }
    public ClusterId Id => Ctx.State.Id;
    private ILogger Logger => Provider.Logger;

    public static async Task<AwsEc2> OpenAsync(AwsProvider provider, StepContext ctx, CancellationToken ct) =>
        new(await provider.ConnectAsync(ctx.State.Id.Region, ct).ConfigureAwait(false), ctx, provider);

    /// <summary>One EC2 call; a not-yet-visible id is retried (<paramref name="notFoundIsFinal"/>: except when looking whether it still exists).</summary>
    public async Task<T> CallAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken ct, bool notFoundIsFinal = false)
    {
        var delay = Provider.Endpoints.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call(ct).ConfigureAwait(false);
            }
            catch (AmazonServiceException e) when (!notFoundIsFinal && AwsErrors.IsNotYetVisible(e) && attempt < NotYetVisibleAttempts)
            {
                Logger.LogDebug("AWS EC2 {What}: {Code} (not visible yet); retrying.", what, e.ErrorCode);
            }
            catch (AmazonServiceException e)
            {
                throw AwsErrors.ToException("EC2", what, e);
            }
            catch (Exception e) when (e is HttpRequestException or AmazonClientException)
            {
                return await Clients.CallAsync("EC2", what, _ => Task.FromException<T>(e), ct).ConfigureAwait(false);
            }
            await Task.Delay(delay, Provider.Time, ct).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
        }
    }

    /// <summary>A call whose AWS error code in <paramref name="tolerated"/> is an answer, not a failure (returns the code).</summary>
    public async Task<string?> TolerateAsync(string what, Func<CancellationToken, Task> call, CancellationToken ct, params string[] tolerated)
    {
        try
        {
            await CallAsync(what, async c => { await call(c).ConfigureAwait(false); return 0; }, ct, notFoundIsFinal: true).ConfigureAwait(false);
            return null;
        }
        catch (KsctlException e) when (e.InnerException is AmazonServiceException s && tolerated.Contains(s.ErrorCode))
        {
            return s.ErrorCode;
        }
    }

    /// <summary>
    /// Retries <paramref name="call"/> while EC2 answers DependencyViolation (a security group still used by an instance
    /// that is shutting down, a subnet with a network interface being released), with back-off until
    /// <paramref name="timeout"/>; NotFound means already gone (returns false).
    /// </summary>
    public async Task<bool> DeleteAsync(string what, Func<CancellationToken, Task> call, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = Provider.Time.GetUtcNow() + timeout;
        var delay = Provider.Endpoints.RetryDelay;
        while (true)
        {
            var code = await TolerateAsync(what, call, ct, "DependencyViolation", "InvalidGroup.NotFound", "InvalidSubnetID.NotFound", "InvalidVpcID.NotFound",
                "InvalidInternetGatewayID.NotFound", "InvalidRouteTableID.NotFound", "InvalidKeyPair.NotFound", "InvalidAssociationID.NotFound", "Gateway.NotAttached").ConfigureAwait(false);
            if (code is null) return true;
            if (code != "DependencyViolation") return false;
            if (Provider.Time.GetUtcNow() > deadline)
                throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.OperationTimeout,
                    $"AWS EC2 {what} still failed with DependencyViolation after {timeout.TotalMinutes:0} minutes; something outside Ksctl may use it. Re-run to try again.", what);
            Logger.LogDebug("AWS EC2 {What}: DependencyViolation; waiting for what depends on it to go.", what);
            await Task.Delay(delay, Provider.Time, ct).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(15).Ticks));
        }
    }

    public string? Recorded(string key) => Ctx.Session.Read(s => s.Resources.GetValueOrDefault(key));

    public async Task RecordAsync(string key, string value)
    {
        Ctx.Mutate(s => s.Resources[key] = value);
        await Ctx.Session.CheckpointAsync().ConfigureAwait(false);
    }

    public void Forget(string key) => Ctx.Mutate(s => s.Resources.Remove(key));

    /// <summary>
    /// The resource recorded under <paramref name="key"/> if it still exists (and is this cluster's), else the one its
    /// tags find, else a new one from <paramref name="create"/>; the id is recorded (checkpointed) before returning.
    /// </summary>
    public async Task<string> EnsureAsync(string key, string prefix, string what,
        Func<string, CancellationToken, Task<IReadOnlyList<Tag>?>> tagsById,
        Func<CancellationToken, Task<string?>> findByTag,
        Func<CancellationToken, Task<string>> create, CancellationToken ct)
    {
        if (Recorded(key) is { } recorded)
        {
            var id = AwsNames.CheckId(recorded, prefix, what);
            var tags = await tagsById(id, ct).ConfigureAwait(false);
            if (tags is not null)
            {
                if (!AwsNames.Owned(tags, Id)) throw NotOwned(what, id);
                return id;
            }
            Logger.LogInformation("AWS {What} {Id} recorded earlier is gone; looking for it by tag.", what, id);
            Forget(key);
        }
        if (await findByTag(ct).ConfigureAwait(false) is { } found)
        {
            found = AwsNames.CheckId(found, prefix, what);
            Logger.LogInformation("AWS {What} {Id} found by its tags (made by an earlier attempt).", what, found);
            await RecordAsync(key, found).ConfigureAwait(false);
            return found;
        }
        var made = AwsNames.CheckId(await create(ct).ConfigureAwait(false), prefix, what);
        await RecordAsync(key, made).ConfigureAwait(false);
        Logger.LogInformation("AWS {What} {Id} created.", what, made);
        return made;
    }

    /// <summary>The id recorded under <paramref name="key"/>, else the one its tags find (a create whose answer was lost), else null.</summary>
    public async Task<string?> IdOrTagAsync(string key, string prefix, string what, Func<CancellationToken, Task<string?>> findByTag, CancellationToken ct) =>
        Recorded(key) is { } recorded ? AwsNames.CheckId(recorded, prefix, what)
        : await findByTag(ct).ConfigureAwait(false) is { } found ? AwsNames.CheckId(found, prefix, what) : null;

    public KsctlException NotOwned(string what, string id) =>
        new("KsctlCloudApiError", KsctlErrorCategory.SecurityError,
            $"AWS {what} {id} is not tagged {AwsNames.ClusterTag}={Id.Name}: it is not this cluster's, and Ksctl leaves it alone.", id);

    public void Dispose() => Clients.Dispose();
}
