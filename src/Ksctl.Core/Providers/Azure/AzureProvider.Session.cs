using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Azure;

/// <summary>Signing in, the subscription, and the resource ids recorded in state (checked before any request on them).</summary>
internal sealed partial class AzureProvider
{
    /// <summary>
    /// The ARM client and the subscription: the one recorded in the cluster's state (a resumed operation keeps using the
    /// same ids), else the credential's, else AZURE_SUBSCRIPTION_ID, else the single subscription the credential sees.
    /// </summary>
    internal async Task<(ArmRestClient Client, string Subscription)> ConnectAsync(string? recorded, CancellationToken ct)
    {
        var signIn = await AzureCredentials.ResolveAsync(ExplicitCredential, StoredCredential, _endpoints, ct).ConfigureAwait(false);
        _logger.LogDebug("Azure: signing in with the {SignIn}.", signIn.ToString());
        var client = new ArmRestClient(signIn, _endpoints, _logger, _time);
        if (recorded is not null) return (client, recorded);
        if (signIn.SubscriptionId is { } given)
        {
            try
            {
                if (await client.GetAsync($"/subscriptions/{given}", AzureApiVersions.Subscriptions, ct).ConfigureAwait(false) is null)
                    throw NoSubscription($"the subscription {given} does not exist or the credential cannot see it");
            }
            catch (KsctlException e) when (e.ErrorId == "KsctlCloudApiError" && e.Category == KsctlErrorCategory.SecurityError)
            {
                throw NoSubscription($"the credential may not read subscription {given}: {e.Message}");
            }
            return (client, given);
        }
        var visible = await client.ListSubscriptionIdsAsync(ct).ConfigureAwait(false);
        return visible.Count switch
        {
            1 => (client, visible[0]),
            0 => throw NoSubscription("the credential sees no subscription"),
            _ => throw new InvalidSpecException("SubscriptionId",
                $"the credential sees {visible.Count} subscriptions ({string.Join(", ", visible)}); choose one with -SubscriptionId or {AzureCredentials.SubscriptionIdVariable}."),
        };
    }

    private static KsctlException NoSubscription(string why) =>
        new("KsctlAuthenticationFailed", KsctlErrorCategory.AuthenticationError, $"Azure sign-in worked but {why}.", "Azure")
        {
            RecommendedAction = $"Give -SubscriptionId (or set {AzureCredentials.SubscriptionIdVariable}) to a subscription where the identity has Contributor rights.",
        };

    /// <summary>The client plus the names/ids of this cluster's resources (subscription recorded on first use).</summary>
    internal async Task<(ArmRestClient Client, AzureNames Names)> SessionAsync(StepContext ctx, CancellationToken ct)
    {
        var recorded = Recorded(ctx, AzureResourceKeys.Subscription) is { } r ? AzureRecordedIds.Subscription(ctx.State.Id, r) : null;
        var (client, subscription) = await ConnectAsync(recorded, ct).ConfigureAwait(false);
        if (recorded is null)
        {
            // Parallel first steps may race here: the first one recorded wins for all.
            ctx.Mutate(s => s.Resources.TryAdd(AzureResourceKeys.Subscription, subscription));
            await ctx.Session.CheckpointAsync().ConfigureAwait(false);
            subscription = Recorded(ctx, AzureResourceKeys.Subscription)!;
        }
        return (client, new AzureNames(subscription, ctx.State.Id));
    }

    /// <summary>
    /// A value of the state's Resources, read under the session's gate: parallel steps record theirs at the same time,
    /// and a dictionary must not be read while another thread writes it.
    /// </summary>
    internal static string? Recorded(StepContext ctx, string key) => ctx.Session.Read(s => s.Resources.GetValueOrDefault(key));

    /// <summary>Records a resource id before its PUT (checkpointed), so a delete after a crash knows to look for it.</summary>
    internal static async Task RecordAsync(StepContext ctx, string key, string id)
    {
        if (Recorded(ctx, key) == id) return;
        ctx.Mutate(s => s.Resources[key] = id);
        await ctx.Session.CheckpointAsync().ConfigureAwait(false);
    }

    /// <summary>Deletes the resource recorded under <paramref name="key"/> (404: already gone) and forgets it.</summary>
    internal async Task DeleteRecordedAsync(StepContext ctx, string key, string apiVersion, TimeSpan timeout, CancellationToken ct)
    {
        if (Recorded(ctx, key) is not { } recorded) return;
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        var id = AzureRecordedIds.Verify(names, key, recorded);
        // Read before deleting: what is there must carry this cluster's tags (a state pointed at another subscription where
        // a same-named group exists would otherwise delete someone else's resources).
        if (await client.GetAsync(id, apiVersion, ct).ConfigureAwait(false) is not { } existing
            || !await DeleteOwnedAsync(client, id, existing, ctx.State.Id, apiVersion, timeout, ct).ConfigureAwait(false))
            _logger.LogInformation("Azure {Resource} was already gone.", ArmRestClient.ShortName(id));
        ctx.Mutate(s => s.Resources.Remove(key));
    }

    /// <summary>For a resize or a resume: a resource recorded and provisioned earlier needs no PUT.</summary>
    internal async Task<bool> ProvisionedAsync(StepContext ctx, string key, string apiVersion, CancellationToken ct)
    {
        if (Recorded(ctx, key) is not { } recorded) return false;
        var (client, names) = await SessionAsync(ctx, ct).ConfigureAwait(false);
        var id = AzureRecordedIds.Verify(names, key, recorded);
        return await client.GetAsync(id, apiVersion, ct).ConfigureAwait(false) is { } r && ArmRestClient.ProvisioningState(r) == "Succeeded";
    }

    private static async Task<bool> DeleteOwnedAsync(ArmRestClient client, string id, System.Text.Json.Nodes.JsonObject existing, Model.ClusterId cluster,
        string apiVersion, TimeSpan timeout, CancellationToken ct)
    {
        AzureRecordedIds.EnsureOwned(existing, id, cluster);
        return await client.DeleteAsync(id, apiVersion, $"delete {ArmRestClient.ShortName(id)}", timeout, ct).ConfigureAwait(false);
    }
}
