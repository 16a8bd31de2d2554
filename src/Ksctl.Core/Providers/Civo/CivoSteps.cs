using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Civo;

/// <summary>What every Civo step does the same way: find-or-create with the id recorded at once, in-use waits, status reading.</summary>
internal static class CivoSteps
{
    private const int CreateAttempts = 6;

    /// <summary>
    /// Civo's codes for a delete refused because something still uses the resource (civogo errors.go:
    /// database_network_delete_with_instance, database_network_inuse_by_volumes; firewalls answer 409). Detaching lags
    /// behind the deletion of what used it, so these are waited out.
    /// </summary>
    private static readonly string[] InUseCodes = ["database_network_delete_with_instance", "database_network_inuse_by_volumes", "database_network_inuse", "database_firewall_inuse"];

    public static bool IsInUse(KsctlException e) =>
        e is CivoApiException { Code: { } code } ? InUseCodes.Contains(code, StringComparer.Ordinal) || e.Category == KsctlErrorCategory.ResourceExists
            : e.Category == KsctlErrorCategory.ResourceExists;

    /// <summary>Civo's failed states of an instance or a cluster.</summary>
    public static bool IsFailed(string? status) =>
        status?.Contains("ERROR", StringComparison.OrdinalIgnoreCase) == true || status?.Contains("FAIL", StringComparison.OrdinalIgnoreCase) == true;

    public static string? Recorded(StepContext ctx, string resource) => ctx.Session.Read(s => s.Resources.GetValueOrDefault(resource));

    public static string RecordedOrThrow(StepContext ctx, string resource) => Recorded(ctx, resource)
        ?? throw new KsctlException("KsctlStateInconsistent", KsctlErrorCategory.InvalidData,
            $"No {resource} id is recorded for '{ctx.State.Id.Name}'; re-run the create to find or create it.", ctx.State.Id.Name);

    /// <summary>
    /// Find-or-create for one resource: look (recorded id, else name); if absent, create and record the id at once
    /// (with <paramref name="alsoRecord"/> in the same state change) and checkpoint. A create whose answer is lost
    /// (5xx, dropped connection) may still have been applied, so the next attempt looks first. Ids Civo returns are
    /// checked to be Civo ids before they are recorded.
    /// </summary>
    public static async Task<T> EnsureAsync<T>(StepContext ctx, ILogger logger, TimeProvider time, string resource, string what, Func<Task<T?>> find,
        Func<Task<T>> create, Func<T, string?> idOf, CancellationToken ct, Action<ClusterState, string>? alsoRecord = null) where T : class
    {
        for (var attempt = 1; ; attempt++)
        {
            var existing = await find().ConfigureAwait(false);
            if (existing is not null)
            {
                var id = CivoEndpoint.Id(idOf(existing), what);
                if (Recorded(ctx, resource) != id) logger.LogInformation("Civo {What} already exists ({Id}); adopting it.", what, id);
                await RecordAsync(ctx, resource, id, alsoRecord).ConfigureAwait(false);
                return existing;
            }
            try
            {
                logger.LogInformation("Creating Civo {What}.", what);
                var created = await create().ConfigureAwait(false);
                await RecordAsync(ctx, resource, CivoEndpoint.Id(idOf(created), what), alsoRecord).ConfigureAwait(false);
                return created;
            }
            catch (CivoTransientException e) when (attempt < CreateAttempts)
            {
                await BackOffAsync(logger, time, attempt, what, e, ct).ConfigureAwait(false);
            }
            catch (CivoTransientException e)
            {
                throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ResourceUnavailable, e.Message, "Civo", e);
            }
        }
    }

    public static async Task BackOffAsync(ILogger logger, TimeProvider time, int attempt, string what, Exception e, CancellationToken ct)
    {
        var wait = CivoClient.Backoff(attempt);
        logger.LogWarning("Creating Civo {What}: {Error}; checking again in {Delay} ms.", what, e.Message, (int)wait.TotalMilliseconds);
        await Task.Delay(wait, time, ct).ConfigureAwait(false);
    }

    private static async Task RecordAsync(StepContext ctx, string resource, string id, Action<ClusterState, string>? alsoRecord)
    {
        ctx.Mutate(s =>
        {
            s.Resources[resource] = id;
            alsoRecord?.Invoke(s, id);
        });
        await ctx.Session.CheckpointAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a delete that Civo may refuse as "in use" for a while after what used the resource is gone: retried with
    /// growing delays until <see cref="CivoTimings.InUse"/>, then the refusal surfaces.
    /// </summary>
    public static async Task<bool> WhileInUseAsync(ILogger logger, TimeProvider time, Func<Task<bool>> delete, string what, CancellationToken ct)
    {
        var timings = CivoTimings.Current;
        var deadline = time.GetUtcNow() + timings.InUse;
        var delay = timings.FirstPoll;
        while (true)
        {
            try
            {
                return await delete().ConfigureAwait(false);
            }
            catch (KsctlException e) when (IsInUse(e) && time.GetUtcNow() + delay < deadline)
            {
                logger.LogInformation("Civo refuses to delete {What} while it is in use ({Reason}); trying again in {Delay} s.", what, e.Message, delay.TotalSeconds);
                await Task.Delay(delay, time, ct).ConfigureAwait(false);
                delay = timings.Next(delay);
            }
        }
    }
}
