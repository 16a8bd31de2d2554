using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Ksctl.Azure.Tests;

/// <summary>
/// What ARM fills in when a resource is created (addresses) and a VM's boot on a test machine.
/// Sources: a NIC's dynamic private address is the lowest free one of its subnet after the four Azure reserves at the
/// start (and the broadcast at the end) — learn.microsoft.com/azure/virtual-network/virtual-networks-faq ("Are there
/// any restrictions on using IP addresses within these subnets?") and .../ip-services/private-ip-addresses
/// ("Dynamic: Azure assigns the next available unassigned or unreserved IP address in the subnet's address range").
/// A NIC's security group is the one its <c>networkSecurityGroup.id</c> names (network 2024-05-01, NetworkInterface).
/// </summary>
public sealed partial class ArmEmulator
{
    /// <summary>
    /// A VM being booted: its name, decoded customData, the private address and subnet its NIC got, the VNet's address
    /// prefixes (what the VirtualNetwork service tag stands for) and its NIC's NSG securityRules as ARM stores them.
    /// </summary>
    public sealed record VmBoot(string Name, string UserData, string PrivateIp, string SubnetPrefix, IReadOnlyList<string> VnetPrefixes, JsonArray SecurityRules);

    /// <summary>Called under the gate when a resource is created.</summary>
    private void OnCreated(Resource r)
    {
        var n = Interlocked.Increment(ref _ipCounter);
        switch (r.Type)
        {
            case "Microsoft.Network/publicIPAddresses":
                r.Body["properties"]!["ipAddress"] = ReportedPublicIp?.Invoke(r.Name) ?? $"20.30.40.{n}";
                break;
            case "Microsoft.Network/networkInterfaces":
                if (r.Body["properties"]?["ipConfigurations"]?[0]?["properties"] is JsonObject cfg) cfg["privateIPAddress"] = NextPrivateIp(cfg) ?? $"10.1.0.{n}";
                break;
            case "Microsoft.Compute/virtualMachines" when VmBooter is { } boot:
                var vm = BootOf(r);
                r.Boot = Task.Run(() => boot(vm));
                break;
        }
    }

    private VmBoot BootOf(Resource vm)
    {
        var custom = vm.Body["properties"]?["osProfile"]?["customData"]?.GetValue<string>() ?? "";
        var userData = Encoding.UTF8.GetString(Convert.FromBase64String(custom));
        var nic = _resources[vm.Body["properties"]!["networkProfile"]!["networkInterfaces"]![0]!["id"]!.GetValue<string>()];
        var cfg = nic.Body["properties"]!["ipConfigurations"]![0]!["properties"]!;
        var subnetId = cfg["subnet"]?["id"]?.GetValue<string>() ?? throw new InvalidOperationException($"NIC {nic.Id} has no subnet.");
        var (subnetPrefix, vnetPrefixes) = SubnetOf(subnetId) ?? throw new InvalidOperationException($"Subnet {subnetId} has no address prefix.");
        var nsgId = nic.Body["properties"]?["networkSecurityGroup"]?["id"]?.GetValue<string>();
        var rules = nsgId is not null && _resources.TryGetValue(nsgId, out var nsg)
            ? (JsonArray)(nsg.Body["properties"]?["securityRules"]?.DeepClone() ?? new JsonArray())
            : [];
        return new VmBoot(vm.Name, userData, cfg["privateIPAddress"]!.GetValue<string>(), subnetPrefix, vnetPrefixes, rules);
    }

    /// <summary>The subnet's prefix and its VNet's address space, from what was PUT.</summary>
    private (string Subnet, IReadOnlyList<string> Vnet)? SubnetOf(string subnetId)
    {
        var i = subnetId.IndexOf("/subnets/", StringComparison.OrdinalIgnoreCase);
        if (i < 0 || !_resources.TryGetValue(subnetId[..i], out var vnet)) return null;
        var name = subnetId[(i + 9)..];
        var subnet = vnet.Body["properties"]?["subnets"]?.AsArray().FirstOrDefault(s => string.Equals(s?["name"]?.GetValue<string>(), name, StringComparison.OrdinalIgnoreCase));
        var prefix = subnet?["properties"]?["addressPrefix"]?.GetValue<string>();
        if (prefix is null) return null;
        var space = vnet.Body["properties"]?["addressSpace"]?["addressPrefixes"]?.AsArray().Select(p => p!.GetValue<string>()).ToList() ?? [];
        return (prefix, space);
    }

    /// <summary>The lowest address of the NIC's subnet no other NIC holds, after Azure's four reserved ones.</summary>
    private string? NextPrivateIp(JsonObject cfg)
    {
        if (cfg["subnet"]?["id"]?.GetValue<string>() is not { } subnetId || SubnetOf(subnetId) is not { } found) return null;
        var network = IPNetwork.Parse(found.Subnet);
        var taken = _resources.Values.Where(r => r.Type == "Microsoft.Network/networkInterfaces")
            .Select(r => r.Body["properties"]?["ipConfigurations"]?[0]?["properties"]?["privateIPAddress"]?.GetValue<string>())
            .OfType<string>().ToHashSet();
        var first = BitConverter.ToUInt32(network.BaseAddress.GetAddressBytes().Reverse().ToArray());
        var size = 1u << (32 - network.PrefixLength);
        for (var k = 4u; k < size - 1; k++)
        {
            var candidate = new IPAddress(BitConverter.GetBytes(first + k).Reverse().ToArray()).ToString();
            if (!taken.Contains(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>A finished VM boot: its NIC and public IP now report the machine's addresses.</summary>
    private void AttachAddress(Resource vm, (string PublicIp, string PrivateIp) address)
    {
        var nicId = vm.Body["properties"]?["networkProfile"]?["networkInterfaces"]?[0]?["id"]?.GetValue<string>();
        if (nicId is null || !_resources.TryGetValue(nicId, out var nic)) return;
        var cfg = nic.Body["properties"]?["ipConfigurations"]?[0]?["properties"] as JsonObject;
        if (cfg is null) return;
        cfg["privateIPAddress"] = address.PrivateIp;
        var pipId = cfg["publicIPAddress"]?["id"]?.GetValue<string>();
        if (pipId is not null && _resources.TryGetValue(pipId, out var pip)) pip.Body["properties"]!["ipAddress"] = address.PublicIp;
    }
}
