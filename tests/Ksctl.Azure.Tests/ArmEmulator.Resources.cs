using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Ksctl.Azure.Tests;

/// <summary>
/// ARM resources: PUT (idempotent by id, ARM's and the providers' validation, immutable properties, retry of a Failed
/// resource on the next PUT), GET, DELETE (in-use refusals), and the faults a test asks for.
/// </summary>
public sealed partial class ArmEmulator
{
    private static readonly string[] SynchronousTypes = ["Microsoft.Resources/resourceGroups"];

    private async Task PutAsync(HttpContext ctx, string id, string type, string group)
    {
        JsonObject body;
        try { body = JsonNode.Parse(await new StreamReader(ctx.Request.Body).ReadToEndAsync()) as JsonObject ?? throw new FormatException("not an object"); }
        catch (Exception e) { await Error(ctx, 400, "InvalidRequestContent", $"The request content was invalid and could not be deserialized: {e.Message}"); return; }
        var name = id.Split('/')[^1];
        int status;
        Resource resource;
        lock (_gate)
        {
            var refused = _putErrors.FindIndex(e => e.Type.Equals(type, StringComparison.OrdinalIgnoreCase));
            if (refused >= 0)
            {
                var e = _putErrors[refused];
                _putErrors.RemoveAt(refused);
                status = -e.Status;
                resource = null!;
                ctx.Items["error"] = (e.Code, e.Message);
            }
            else if (Validate(type, group, name, body) is { } invalid)
            {
                status = -StatusOf(invalid.Code);
                resource = null!;
                ctx.Items["error"] = invalid;
            }
            else if (_resources.TryGetValue(id, out var existing) && ImmutableChange(existing, body) is { } change)
            {
                status = -409;
                resource = null!;
                ctx.Items["error"] = ("PropertyChangeNotAllowed", $"Changing property '{change}' is not allowed.");
            }
            else if (existing is not null && AksUpgradeViolation(existing, body) is { } upgrade)
            {
                status = -400;
                resource = null!;
                ctx.Items["error"] = upgrade;
            }
            else if (existing is not null)
            {
                // ARM PUT is idempotent by id: the same body again is an update that changes nothing.
                resource = existing;
                var computed = existing.Body;
                existing.Body = Stamp(body, existing.Id, type, name);
                Carry(computed, existing.Body);
                if (existing.Operation is null && AksUpgradeStarts(computed, existing))
                    InjectFailure(NewOperation(id, delete: false), existing);
                else if (existing.Operation is null && existing.State == "Failed")
                {
                    // ARM retries the provisioning of a failed resource on the next PUT.
                    SetState(existing, "Updating");
                    InjectFailure(NewOperation(id, delete: false), existing);
                }
                status = existing.Operation is null ? 200 : 201;
            }
            else
            {
                resource = new Resource { Id = id, Type = type, Name = name, Group = group, Body = Stamp(body, id, type, name) };
                _resources[id] = resource;
                _creates.AddOrUpdate(id, 1, (_, n) => n + 1);
                status = 201;
                if (SynchronousTypes.Contains(type)) SetState(resource, "Succeeded");
                else
                {
                    SetState(resource, "Creating");
                    InjectFailure(NewOperation(id, delete: false), resource);
                    OnCreated(resource);
                }
                var lost = _lostResponses.FindIndex(t => t.Equals(type, StringComparison.OrdinalIgnoreCase));
                if (lost >= 0)
                {
                    _lostResponses.RemoveAt(lost);
                    status = -500;
                    ctx.Items["error"] = ("InternalServerError", "Encountered internal server error after the request was accepted.");
                }
            }
        }
        if (status < 0)
        {
            var (code, message) = ((string, string))ctx.Items["error"]!;
            await Error(ctx, -status, code, message);
            return;
        }
        OnPut?.Invoke(type, id);
        if (resource.Operation is { } opId) AddOperationHeaders(ctx, opId, location: false);
        JsonObject snapshot;
        lock (_gate) snapshot = (JsonObject)resource.Body.DeepClone();
        await Json(ctx, status, snapshot);
    }

    /// <summary>
    /// Fixed at creation, as in Azure: a VM's osProfile (customData, computerName, admin user); an AKS cluster's node
    /// resource group (managedClusters.json: nodeResourceGroup cannot be changed after creation).
    /// </summary>
    private static string? ImmutableChange(Resource existing, JsonObject body)
    {
        if (existing.Type == "Microsoft.ContainerService/managedClusters")
        {
            var before = existing.Body["properties"]?["nodeResourceGroup"]?.GetValue<string>();
            var after = body["properties"]?["nodeResourceGroup"]?.GetValue<string>();
            return before != after ? "properties.nodeResourceGroup" : null;
        }
        if (existing.Type != "Microsoft.Compute/virtualMachines") return null;
        foreach (var property in new[] { "customData", "computerName", "adminUsername" })
        {
            var before = existing.Body["properties"]?["osProfile"]?[property]?.ToJsonString();
            var after = body["properties"]?["osProfile"]?[property]?.ToJsonString();
            if (before != after) return $"osProfile.{property}";
        }
        return null;
    }

    /// <summary>What ARM itself would refuse: a missing group or location, references to things that do not exist.</summary>
    private (string Code, string Message)? Validate(string type, string group, string name, JsonObject body)
    {
        if (NameRuleViolation(type, name) is { } badName) return badName;
        if (type != "Microsoft.Resources/resourceGroups" && !_resources.Values.Any(r => r.Type == "Microsoft.Resources/resourceGroups" && r.Name.Equals(group, StringComparison.OrdinalIgnoreCase)))
            return ("ResourceGroupNotFound", $"Resource group '{group}' could not be found.");
        if (body["location"] is null) return ("LocationRequired", "The location property is required for this definition.");
        if (LocationViolation(type, body["location"]!.GetValue<string>()) is { } badLocation) return badLocation;
        string? Ref(JsonNode? node) => node?["id"]?.GetValue<string>();
        bool Exists(string? refId) => refId is null || _resources.ContainsKey(refId) || SubnetExists(refId);
        switch (type)
        {
            case "Microsoft.ContainerService/managedClusters":
                return ManagedClusterViolation(group, name, body) ?? AksVersionViolation(body);
            case "Microsoft.Network/networkInterfaces":
                var ip = body["properties"]?["ipConfigurations"]?[0]?["properties"];
                foreach (var r in new[] { Ref(ip?["subnet"]), Ref(ip?["publicIPAddress"]), Ref(body["properties"]?["networkSecurityGroup"]) })
                    if (!Exists(r)) return ("InvalidResourceReference", $"Resource {r} referenced by resource {type} was not found.");
                break;
            case "Microsoft.Compute/virtualMachines":
                var nic = Ref(body["properties"]?["networkProfile"]?["networkInterfaces"]?[0]);
                if (nic is null || !_resources.ContainsKey(nic)) return ("NotFound", $"Resource {nic} not found.");
                if (body["properties"]?["hardwareProfile"]?["vmSize"] is null) return ("InvalidParameter", "Required parameter 'hardwareProfile.vmSize' is missing (null).");
                if (ComputerNameViolation(body) is { } badComputer) return badComputer;
                if (SizeViolation(id: $"/subscriptions/{Subscription}/resourceGroups/{group}/providers/{type}/{name}", body) is { } badSize) return badSize;
                var custom = body["properties"]?["osProfile"]?["customData"]?.GetValue<string>();
                if (custom is not null)
                    try { Convert.FromBase64String(custom); }
                    catch (FormatException) { return ("InvalidParameter", "Custom data in OSProfile must be in Base64 encoding and with a maximum length of 87380 characters."); }
                break;
        }
        return null;
    }

    private bool SubnetExists(string id)
    {
        var i = id.IndexOf("/subnets/", StringComparison.OrdinalIgnoreCase);
        if (i < 0 || !_resources.TryGetValue(id[..i], out var vnet)) return false;
        var subnet = id[(i + 9)..];
        return vnet.Body["properties"]?["subnets"]?.AsArray().Any(s => string.Equals(s?["name"]?.GetValue<string>(), subnet, StringComparison.OrdinalIgnoreCase)) == true;
    }

    private static JsonObject Stamp(JsonObject body, string id, string type, string name)
    {
        var copy = (JsonObject)body.DeepClone();
        copy["id"] = id;
        copy["name"] = name;
        copy["type"] = type;
        if (copy["properties"] is not JsonObject) copy["properties"] = new JsonObject();
        if (type == "Microsoft.Network/virtualNetworks")
            foreach (var subnet in copy["properties"]!["subnets"]?.AsArray() ?? [])
                if (subnet is JsonObject s) s["id"] = $"{id}/subnets/{s["name"]}";
        return copy;
    }

    /// <summary>Keeps what ARM computed (state, addresses) across an idempotent re-PUT.</summary>
    private static void Carry(JsonObject from, JsonObject to)
    {
        to["properties"]!["provisioningState"] = from["properties"]?["provisioningState"]?.DeepClone();
        foreach (var key in new[] { "ipAddress", "fqdn", "currentKubernetesVersion", "powerState" })
            if (from["properties"]?[key] is { } v) to["properties"]![key] = v.DeepClone();
        if (from["properties"]?["ipConfigurations"]?[0]?["properties"]?["privateIPAddress"] is { } pip && to["properties"]?["ipConfigurations"]?[0]?["properties"] is JsonObject cfg)
            cfg["privateIPAddress"] = pip.DeepClone();
    }

    private static void SetState(Resource r, string state) => r.Body["properties"]!["provisioningState"] = state;

    private void Remove(Resource r)
    {
        var doomed = r.Type == "Microsoft.Resources/resourceGroups"
            ? _resources.Values.Where(x => x.Group.Equals(r.Name, StringComparison.OrdinalIgnoreCase)).ToList()
            : [r];
        foreach (var x in doomed)
        {
            _resources.Remove(x.Id);
            if (x.Type == "Microsoft.Compute/virtualMachines") VmReleaser?.Invoke(x.Name);
        }
    }

    private async Task GetAsync(HttpContext ctx, string id)
    {
        JsonObject? snapshot;
        lock (_gate) snapshot = _resources.TryGetValue(id, out var r) ? (JsonObject)r.Body.DeepClone() : null;
        if (snapshot is null)
        {
            var kind = id.Split('/').Length == 5 ? "ResourceGroupNotFound" : "ResourceNotFound";
            await Error(ctx, 404, kind, $"The Resource '{string.Join('/', id.Split('/')[^2..])}' under resource group '{id.Split('/')[4]}' was not found.");
            return;
        }
        await Json(ctx, 200, snapshot);
    }

    private async Task DeleteAsync(HttpContext ctx, string id, string type)
    {
        string? opId = null;
        (string Code, string Message)? inUse = null;
        lock (_gate)
        {
            if (_resources.TryGetValue(id, out var r))
            {
                inUse = InUse(r);
                if (inUse is null)
                {
                    if (r.Operation is { } running && _operations[running].Delete) opId = running;
                    else
                    {
                        var op = NewOperation(id, delete: true);
                        var failure = _deleteFailures.FindIndex(f => f.Type.Equals(type, StringComparison.OrdinalIgnoreCase));
                        if (failure >= 0) { op.Error = (_deleteFailures[failure].Code, _deleteFailures[failure].Message); _deleteFailures.RemoveAt(failure); }
                        opId = op.Id;
                    }
                    SetState(r, "Deleting");
                }
            }
        }
        if (inUse is { } e) { await Error(ctx, 400, e.Code, e.Message); return; }
        if (opId is null) { ctx.Response.StatusCode = 204; return; }
        AddOperationHeaders(ctx, opId, location: type == "Microsoft.Resources/resourceGroups");
        if (type == "Microsoft.Resources/resourceGroups") ctx.Response.Headers.Remove("Azure-AsyncOperation");
        ctx.Response.StatusCode = 202;
    }

    /// <summary>ARM refuses to delete what another resource still uses.</summary>
    private (string, string)? InUse(Resource r)
    {
        bool Mentions(Resource other) => other.Id != r.Id && other.Body.ToJsonString().Contains($"\"{r.Id}", StringComparison.OrdinalIgnoreCase);
        var user = r.Type == "Microsoft.Resources/resourceGroups" ? null : _resources.Values.FirstOrDefault(Mentions);
        return (r.Type, user) switch
        {
            (_, null) => null,
            ("Microsoft.Network/networkInterfaces", _) => ("NicInUse", $"Network Interface {r.Id} is used by existing resource {user.Id}. In order to delete the network interface, it must be dissociated from the resource."),
            ("Microsoft.Network/publicIPAddresses", _) => ("PublicIPAddressCannotBeDeleted", $"Public IP address {r.Id} can not be deleted since it is still allocated to resource {user.Id}."),
            ("Microsoft.Network/networkSecurityGroups", _) => ("InUseNetworkSecurityGroupCannotBeDeleted", $"Network security group {r.Id} cannot be deleted because it is in use by the following resources: {user.Id}."),
            ("Microsoft.Network/virtualNetworks", _) => ("InUseSubnetCannotBeDeleted", $"Subnet of {r.Id} is in use by {user.Id} and cannot be deleted."),
            _ => null,
        };
    }
}
