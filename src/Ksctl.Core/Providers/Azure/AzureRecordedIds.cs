using System.Text.RegularExpressions;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;

namespace Ksctl.Core.Providers.Azure;

/// <summary>
/// A resource id read back from state drives requests (a GET on resume, every DELETE), and whoever can write a state
/// document could otherwise aim Remove-KsctlCluster at any resource group or send the ARM token elsewhere. So before
/// any request, a recorded id must equal the id Ksctl computes itself from the cluster's identity: the recorded
/// subscription (a GUID), the cluster's own resource group, the resource type the key stands for and the name Ksctl
/// gives it. Anything else (another group, another type, an absolute URI, dot segments, a query) is KsctlStateInvalid
/// and nothing is sent.
/// </summary>
internal static class AzureRecordedIds
{
    /// <summary>The node keys Ksctl makes: lb, db-0, cp-1, wp-12.</summary>
    private static readonly Regex NodeKey = new(@"^(lb|(db|cp|wp)-[0-9]{1,3})\z", RegexOptions.CultureInvariant);

    /// <summary>The state keys whose values are ARM ids (the others: subscription, hostnames, the chosen AKS version).</summary>
    public static bool IsIdKey(string key) =>
        key is AzureResourceKeys.ResourceGroup or AzureResourceKeys.ManagedCluster or AzureResourceKeys.Network
        || key.StartsWith("azure:nsg:", StringComparison.Ordinal) || key.StartsWith("azure:vm:", StringComparison.Ordinal)
        || key.StartsWith("azure:nic:", StringComparison.Ordinal) || key.StartsWith("azure:pip:", StringComparison.Ordinal);

    /// <summary>The id Ksctl gives the resource of that key, or null when the key names nothing Ksctl makes.</summary>
    public static string? Expected(AzureNames names, string key)
    {
        if (key == AzureResourceKeys.ResourceGroup) return names.ResourceGroupId;
        if (key == AzureResourceKeys.ManagedCluster) return names.ManagedClusterId;
        if (key == AzureResourceKeys.Network) return names.NetworkId;
        foreach (var role in AzureProvider.Roles)
            if (key == AzureResourceKeys.SecurityGroup(role)) return names.SecurityGroupId(role);
        var parts = key.Split(':', 3);
        if (parts.Length != 3 || !NodeKey.IsMatch(parts[2])) return null;
        var vm = $"{names.Cluster}-vm-{parts[2]}";
        return parts[1] switch
        {
            "vm" => names.VmId(vm),
            "nic" => names.NicId(vm),
            "pip" => names.PublicIpId(vm),
            _ => null,
        };
    }

    /// <summary>The recorded id, once it is exactly the expected one; else KsctlStateInvalid (nothing is sent).</summary>
    public static string Verify(AzureNames names, string key, string recorded)
    {
        var expected = Expected(names, key);
        if (expected is not null && string.Equals(recorded, expected, StringComparison.Ordinal)) return recorded;
        throw Invalid(names.Cluster, $"the recorded Azure id for '{key}' ('{recorded}') is not {(expected is null ? "an id Ksctl makes" : $"this cluster's ('{expected}')")}");
    }

    /// <summary>The recorded subscription: a GUID, as ARM names subscriptions (it goes into every request path).</summary>
    public static string Subscription(ClusterId cluster, string recorded) =>
        Guid.TryParse(recorded, out var g) && recorded.Length == 36 ? recorded
            : throw Invalid(cluster.Name, $"the recorded subscription '{recorded}' is not a subscription id (a GUID)");

    /// <summary>Every recorded id of the state checked at once, so a delete refuses before its first request.</summary>
    public static void VerifyAll(ClusterState state)
    {
        var ids = state.Resources.Where(kv => kv.Key.StartsWith("azure:", StringComparison.Ordinal) && IsIdKey(kv.Key)).ToList();
        if (ids.Count == 0) return;
        if (state.Resources.GetValueOrDefault(AzureResourceKeys.Subscription) is not { } subscription)
            throw Invalid(state.Id.Name, "Azure resource ids are recorded without the subscription they belong to");
        var names = new AzureNames(Subscription(state.Id, subscription), state.Id);
        foreach (var (key, id) in ids) Verify(names, key, id);
    }

    /// <summary>
    /// The exact ids a delete step will delete, for -WhatIf and -Confirm: the recorded ones that pass the check (a
    /// tampered one is shown as refused, and the run refuses it too).
    /// </summary>
    public static IReadOnlyList<string> ForDisplay(ClusterState state, params string[] keys)
    {
        var shown = new List<string>();
        var subscription = state.Resources.GetValueOrDefault(AzureResourceKeys.Subscription);
        var names = subscription is not null && Guid.TryParse(subscription, out _) ? new AzureNames(subscription, state.Id) : null;
        foreach (var key in keys)
        {
            if (state.Resources.GetValueOrDefault(key) is not { } id) continue;
            var expected = names is null ? null : Expected(names, key);
            shown.Add(expected is not null && id == expected ? id : $"(refused: recorded '{id}' is not this cluster's)");
        }
        return shown;
    }

    /// <summary>
    /// A resource about to be deleted must carry the tags Ksctl put on it (ksctl-cluster, ksctl-provider, ksctl-type):
    /// else it is not this cluster's, whatever its name, and it is left alone.
    /// </summary>
    public static void EnsureOwned(System.Text.Json.Nodes.JsonObject resource, string id, ClusterId cluster)
    {
        string? Tag(string name) => resource["tags"]?[name] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        foreach (var (name, value) in AzureNames.Tags(cluster).Where(t => t.Key != "ksctl-region"))
            if (Tag(name) != value)
                throw Invalid(cluster.Name, $"'{id}' is not tagged {name}={value} (it carries '{Tag(name) ?? "no such tag"}'), so it is not this cluster's", "Nothing was deleted.");
    }

    /// <summary>The plan's first delete step: every recorded id checked before any request.</summary>
    public static PlanStep VerifyStep(ClusterState state) =>
        new(StepName, (ctx, _) => { ctx.Session.Read(s => { VerifyAll(s); return 0; }); return Task.CompletedTask; })
        {
            Description = "check that every recorded Azure id is this cluster's own (subscription, resource group, type and name)",
        };

    public const string StepName = "azure:verify-recorded-ids";

    private static KsctlException Invalid(string cluster, string why, string outcome = "Nothing was sent to Azure.") =>
        new("KsctlStateInvalid", KsctlErrorCategory.InvalidData, $"The state of cluster '{cluster}' cannot be trusted: {why}. {outcome}", cluster)
        {
            RecommendedAction = "Restore the state document from a trusted copy (Import-KsctlState), or remove the cluster's resources in the Azure portal.",
        };
}
