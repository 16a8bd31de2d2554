using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Ksctl.Azure.Tests;

/// <summary>
/// Long-running operations as ARM runs them (learn.microsoft.com/azure/azure-resource-manager/management/async-operations):
/// a PUT or DELETE answers 201/202 with <c>Azure-AsyncOperation</c> (and <c>Location</c> for a group's deletion); the
/// operation reports InProgress, then Succeeded, Failed or Canceled with ARM's <c>error</c> body. Here an operation
/// finishes after <see cref="PollsToComplete"/> polls (a VM's also waits for its machine to boot); <see cref="OnOperationPoll"/>
/// lets a test act at a poll (cancel, advance a clock) instead of after a wall-clock delay.
/// </summary>
public sealed partial class ArmEmulator
{
    private Operation NewOperation(string resourceId, bool delete)
    {
        var op = new Operation { Id = Guid.NewGuid().ToString(), ResourceId = resourceId, Delete = delete };
        _operations[op.Id] = op;
        _resources[resourceId].Operation = op.Id;
        return op;
    }

    private void AddOperationHeaders(HttpContext ctx, string opId, bool location)
    {
        var root = (LinkBase ?? BaseUrl).ToString().TrimEnd('/');
        var sub = ctx.Request.Path.Value!.Split('/')[2];
        ctx.Response.Headers["Azure-AsyncOperation"] = $"{root}/subscriptions/{sub}/providers/Microsoft.Emulator/locations/eastus/operations/{opId}?api-version=2024-01-01";
        if (location) ctx.Response.Headers.Location = $"{root}/subscriptions/{sub}/operationresults/{opId}?api-version=2024-01-01";
        ctx.Response.Headers.RetryAfter = "0";
    }

    private async Task OperationAsync(HttpContext ctx, string opId, bool location)
    {
        Operation? op;
        lock (_gate)
        {
            if (_operations.TryGetValue(opId, out op) && op.Status == "InProgress") Advance(op);
        }
        if (op is null) { await Error(ctx, 404, "OperationNotFound", $"Operation {opId} not found."); return; }
        string type;
        lock (_gate) type = _resources.TryGetValue(op.ResourceId, out var polled) ? polled.Type : "";
        OnOperationPoll?.Invoke(type, op.Delete, op.Status);
        ctx.Response.Headers.RetryAfter = "0";
        if (location)
        {
            ctx.Response.StatusCode = op.Status == "InProgress" ? 202 : 200;
            return;
        }
        var body = new JsonObject { ["id"] = opId, ["name"] = opId, ["status"] = op.Status, ["startTime"] = DateTime.UtcNow.ToString("o") };
        if (op.Error is { } e && op.Status == "Failed") body["error"] = new JsonObject { ["code"] = e.Code, ["message"] = e.Message };
        await Json(ctx, 200, body);
    }

    /// <summary>One poll of an operation: it finishes after enough polls (and, for a VM, once its machine has booted).</summary>
    private void Advance(Operation op)
    {
        op.Polls++;
        if (HoldOperations || op.Polls < PollsToComplete) return;
        _resources.TryGetValue(op.ResourceId, out var r);
        if (!op.Delete && r?.Boot is { } boot)
        {
            if (!boot.IsCompleted) return;
            if (boot.IsFaulted)
            {
                op.Status = "Failed";
                op.Error = ("OSProvisioningClientError", "OS provisioning failed for VM: " + boot.Exception!.InnerException!.Message);
            }
            else AttachAddress(r, boot.Result);
        }
        if (op.Error is not null) op.Status = "Failed";
        else op.Status = "Succeeded";
        if (r is null) return;
        r.Operation = null;
        if (op.Delete && op.Status == "Succeeded") Remove(r);
        else if (op.Delete) SetState(r, "Succeeded"); // a failed delete leaves the resource as it was
        else if (!op.Delete) Complete(r, op.Status);
    }

    private void Complete(Resource r, string status)
    {
        SetState(r, status);
        if (status != "Succeeded" || r.Type != "Microsoft.ContainerService/managedClusters") return;
        r.Body["properties"]!["currentKubernetesVersion"] = ResolveAksVersion(r.Body["properties"]?["kubernetesVersion"]?.GetValue<string>());
        r.Body["properties"]!["fqdn"] = $"{r.Body["properties"]?["dnsPrefix"]}-k8s-1a2b3c4d.hcp.{r.Body["location"]}.azmk8s.io";
        r.Body["properties"]!["powerState"] = new JsonObject { ["code"] = "Running" };
        CompleteAksVersions(r);
    }
}
