using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Providers.Civo;

/// <summary>
/// A firewall of Ksctl's and its rules. Created with <c>create_rules: false</c> (civogo firewall.go: otherwise Civo
/// adds its default rules, everything open), so only <see cref="CivoFirewallRules"/> hold. Firewalls carry no tags in
/// Civo: one is this cluster's only if it is the recorded one and has the name Ksctl gives it.
/// </summary>
internal sealed class CivoFirewalls(CivoClient client, ILogger logger, TimeProvider time)
{
    private const int CreateAttempts = 6;

    public async Task<CivoFirewall> EnsureAsync(StepContext ctx, string resource, string name, string networkId, string region,
        IReadOnlyList<CivoFirewallRule> rules, CancellationToken ct)
    {
        var firewall = await CivoSteps.EnsureAsync(ctx, logger, time, resource, $"firewall {name}",
            async () =>
            {
                var all = await client.ListFirewallsAsync(region, ct).ConfigureAwait(false);
                var recorded = CivoSteps.Recorded(ctx, resource);
                var found = all.FirstOrDefault(f => f.Id == recorded && f.Name == name) ?? all.FirstOrDefault(f => f.Name == name);
                if (found is not null && found.NetworkId is not null && found.NetworkId != networkId)
                    throw new KsctlException("KsctlResourceExists", KsctlErrorCategory.ResourceExists,
                        $"A Civo firewall named '{name}' already exists in {region} on another network ({found.NetworkId}); it is not this cluster's. Delete it in Civo or choose another -Name.", name);
                return found;
            },
            async () =>
            {
                var created = await client.CreateFirewallAsync(new CivoFirewallRequest { Name = name, NetworkId = networkId, Region = region, CreateRules = false }, ct).ConfigureAwait(false);
                return new CivoFirewall { Id = created.Id ?? "", Name = name, NetworkId = networkId };
            },
            f => f.Id, ct).ConfigureAwait(false);

        // Rules: add the missing ones by label. Each POST may be applied even when its answer is lost, so look again before retrying.
        var present = await RuleLabelsAsync(firewall.Id, region, ct).ConfigureAwait(false);
        foreach (var rule in rules.Where(r => !present.Contains(r.Label)))
        {
            rule.Region = region;
            rule.FirewallId = firewall.Id;
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await client.CreateFirewallRuleAsync(firewall.Id, rule, ct).ConfigureAwait(false);
                    break;
                }
                catch (CivoTransientException e) when (attempt < CreateAttempts)
                {
                    await CivoSteps.BackOffAsync(logger, time, attempt, $"rule {rule.Label} of firewall {name}", e, ct).ConfigureAwait(false);
                    if ((await RuleLabelsAsync(firewall.Id, region, ct).ConfigureAwait(false)).Contains(rule.Label)) break;
                }
                catch (CivoTransientException e)
                {
                    throw new KsctlException("KsctlCloudApiError", KsctlErrorCategory.ResourceUnavailable, e.Message, "Civo", e);
                }
            }
        }
        return firewall;
    }

    private async Task<HashSet<string>> RuleLabelsAsync(string firewallId, string region, CancellationToken ct) =>
        (await client.ListFirewallRulesAsync(firewallId, region, ct).ConfigureAwait(false)).Select(r => r.Label).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// Deletes this cluster's firewall: the one with the name Ksctl gives it (region and cluster in it, unique per
    /// account), whether or not its id was recorded (a create whose answer was lost). A recorded id naming a firewall
    /// of another name is someone else's (a tampered state) and is left alone. "In use" refusals are waited out.
    /// </summary>
    public async Task DeleteAsync(StepContext ctx, string resource, string name, string region, CancellationToken ct)
    {
        var recorded = CivoSteps.Recorded(ctx, resource);
        var all = await client.ListFirewallsAsync(region, ct).ConfigureAwait(false);
        if (recorded is not null && all.FirstOrDefault(f => f.Id == recorded) is { } other && other.Name != name)
            logger.LogWarning("The Civo firewall {Id} recorded for {Cluster} is named '{Other}', not '{Name}'; it is not this cluster's and is left alone.", recorded, ctx.State.Id.Name, other.Name, name);
        foreach (var firewall in all.Where(f => f.Name == name))
            if (!await CivoSteps.WhileInUseAsync(logger, time, () => client.DeleteFirewallAsync(firewall.Id, region, ct), $"firewall {name}", ct).ConfigureAwait(false))
                logger.LogInformation("Civo firewall {Name} ({Id}) was already gone.", name, firewall.Id);
        ctx.Mutate(s => s.Resources.Remove(resource));
    }
}
