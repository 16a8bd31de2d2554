using System.Text.Json;
using System.Text.Json.Nodes;
using Ksctl.TestSupport;

namespace Ksctl.Gcp.Tests;

/// <summary>
/// VPC firewall rules enforced on the running instances, as Compute does: a rule applies to every instance of its
/// network whose network tags it targets, from the moment it exists until it is deleted, to instances booted before or
/// after it (cloud.google.com/firewall/docs/firewalls "Firewall rules are defined at the network level ... and apply to
/// instances"; compute-api.json firewalls.insert/patch/delete). <see cref="GcpFirewall"/> translates them; the test
/// hands the result to its machine through <see cref="InstanceFirewall"/>. <see cref="UpdateFirewall"/> stands in for
/// firewalls.patch ("gcloud compute firewall-rules update"), <see cref="AlterNextInsert"/> for a provider that sent a
/// wrong body.
/// </summary>
public sealed partial class GcpEmulator
{
    private readonly Dictionary<string, string> _enforced = new(StringComparer.Ordinal);
    private readonly List<(string Kind, Func<JsonObject, bool> Change)> _alterations = [];

    /// <summary>Called with an instance's name and the inbound rules that apply to it, whenever they change.</summary>
    public Action<string, IReadOnlyList<FirewallRule>>? InstanceFirewall { get; set; }

    /// <summary>
    /// The next insert of that kind ("firewalls") for which <paramref name="change"/> returns true is stored as it changed
    /// the body (false: not this one, the change waits for the next).
    /// </summary>
    public void AlterNextInsert(string kind, Func<JsonObject, bool> change)
    {
        lock (_gate) _alterations.Add((kind, change));
    }

    private void ApplyAlteration(string kind, JsonObject body)
    {
        var i = _alterations.FindIndex(a => a.Kind == kind && a.Change(body));
        if (i >= 0) _alterations.RemoveAt(i);
    }

    /// <summary>firewalls.patch: changes the stored rule named <paramref name="name"/>; the running instances follow.</summary>
    public void UpdateFirewall(string name, Action<JsonObject> change)
    {
        lock (_gate)
        {
            var rule = _resources.Values.Single(r => r.Kind == "firewalls" && r.Name == name);
            change(rule.Body);
            EnforceFirewalls();
        }
    }

    /// <summary>Re-computes every running instance's rules and hands over those that changed (caller holds the gate).</summary>
    private void EnforceFirewalls()
    {
        if (InstanceFirewall is null) return;
        foreach (var instance in _resources.Values.Where(r => r.Kind == "instances" && r.Body["status"]?.GetValue<string>() == "RUNNING"))
        {
            var network = Relative(Str(instance.Body["networkInterfaces"]![0]!.AsObject(), "network"));
            var tags = (instance.Body["tags"]?["items"] as JsonArray ?? []).Select(x => x!.GetValue<string>()).ToHashSet();
            var firewalls = _resources.Values.Where(r => r.Kind == "firewalls" && Relative(Str(r.Body, "network")) == network).Select(r => r.Body);
            var rules = GcpFirewall.Inbound(firewalls, tags);
            var key = JsonSerializer.Serialize(rules);
            if (_enforced.TryGetValue(instance.Path, out var applied) && applied == key) continue;
            InstanceFirewall(instance.Name, rules);
            _enforced[instance.Path] = key;
        }
    }

    private void ForgetFirewall(string instancePath) => _enforced.Remove(instancePath);
}
