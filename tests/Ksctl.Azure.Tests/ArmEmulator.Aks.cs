using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Ksctl.Azure.Tests;

/// <summary>AKS's listClusterAdminCredential (managedClusters.json 2024-09-01: POST …/listClusterAdminCredential → kubeconfigs[].value, base64).</summary>
public sealed partial class ArmEmulator
{
    private async Task AdminCredentialAsync(HttpContext ctx, string id)
    {
        JsonObject? cluster;
        lock (_gate) cluster = _resources.TryGetValue(id, out var r) && r.State == "Succeeded" ? (JsonObject)r.Body.DeepClone() : null;
        if (cluster is null) { await Error(ctx, 404, "ResourceNotFound", $"The Resource '{id}' was not found or is not provisioned."); return; }
        var name = cluster["name"]!.GetValue<string>();
        var group = id.Split('/')[4];
        var kubeconfig = $"""
            apiVersion: v1
            clusters:
            - cluster:
                certificate-authority-data: Q0EgREFUQQ==
                server: https://{cluster["properties"]!["fqdn"]}:443
              name: {name}
            contexts:
            - context:
                cluster: {name}
                user: clusterAdmin_{group}_{name}
              name: {name}-admin
            current-context: {name}-admin
            kind: Config
            preferences: {"{}"}
            users:
            - name: clusterAdmin_{group}_{name}
              user:
                client-certificate-data: Q0VSVCBEQVRB
                client-key-data: S0VZIERBVEE=
                token: admin-token-0123456789
            """;
        await Json(ctx, 200, new JsonObject
        {
            ["kubeconfigs"] = new JsonArray(new JsonObject { ["name"] = "clusterAdmin", ["value"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(kubeconfig)) }),
        });
    }
}
