using k8s;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;

namespace Ksctl.Core.Health;

/// <summary>
/// The checks the Kubernetes API answers: /readyz through the cluster's endpoint (for a self-managed cluster the
/// kubeconfig's server is the load balancer, so this is the path users take), and each Node's Ready condition. The
/// kubeconfig comes from the state: it is sanitised as one from a machine would be (no exec, no file reads, https only).
/// </summary>
internal static class KubernetesHealth
{
    public static async Task<IReadOnlyList<HealthCheckResult>> CheckAsync(ClusterState state, TimeSpan timeout, CancellationToken ct)
    {
        var results = new List<HealthCheckResult>();
        var target = state.Endpoint ?? "the API";
        if (!state.Secrets.TryGetValue(ClusterState.KubeconfigSecret, out var kubeconfig) || string.IsNullOrWhiteSpace(kubeconfig))
        {
            results.Add(new(HealthChecks.ApiReady, target, false, "the state holds no kubeconfig for this cluster"));
            return results;
        }
        Kubernetes client;
        try
        {
            var context = state.ContextName ?? "ksctl";
            var config = KubernetesClientConfiguration.BuildConfigFromConfigObject(KubeconfigFile.Parse(KubeconfigFile.Normalize(kubeconfig, context, null, "the state"), "the state"), context);
            config.HttpClientTimeout = timeout;
            client = new Kubernetes(config);
            target = client.BaseUri.GetLeftPart(UriPartial.Authority);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            results.Add(new(HealthChecks.ApiReady, target, false, "the kubeconfig in the state cannot be used: " + ex.Message));
            return results;
        }
        using (client)
        {
            results.Add(await ReadyzAsync(client, target, ct).ConfigureAwait(false));
            results.AddRange(await NodesAsync(client, state, ct).ConfigureAwait(false));
        }
        return results;
    }

    private static async Task<HealthCheckResult> ReadyzAsync(Kubernetes client, string target, CancellationToken ct)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(client.BaseUri, "/readyz"));
            if (client.Credentials is { } credentials) await credentials.ProcessHttpRequestAsync(request, ct).ConfigureAwait(false);
            using var response = await client.HttpClient.SendAsync(request, ct).ConfigureAwait(false);
            var body = Short(await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
            return response.IsSuccessStatusCode
                ? new(HealthChecks.ApiReady, target, true, $"/readyz answered {(int)response.StatusCode} {body}")
                : new(HealthChecks.ApiReady, target, false, $"/readyz answered {(int)response.StatusCode} {response.ReasonPhrase}: {body}");
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            return new(HealthChecks.ApiReady, target, false, "the API did not answer: " + Innermost(ex));
        }
    }

    private static async Task<IReadOnlyList<HealthCheckResult>> NodesAsync(Kubernetes client, ClusterState state, CancellationToken ct)
    {
        k8s.Models.V1NodeList list;
        try
        {
            list = await client.CoreV1.ListNodeAsync(cancellationToken: ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            return [new(HealthChecks.NodeReady, "nodes", false, "the Nodes could not be listed: " + Innermost(ex))];
        }
        var byName = (list.Items ?? []).Where(n => n.Metadata?.Name is not null)
            .GroupBy(n => n.Metadata.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var results = new List<HealthCheckResult>();
        // A self-managed cluster's Nodes are its control planes and workers as recorded; a managed one's are the pool's.
        var expected = state.Id.Type == ClusterType.SelfManaged
            ? state.Nodes.Where(n => n.Role is NodeRole.ControlPlane or NodeRole.Worker).OrderBy(n => n.Role).ThenBy(n => n.Index)
                .Select(n => (Target: n.Key ?? n.Name, NodeName: n.Hostname ?? n.Name)).ToList()
            : byName.Keys.Order(StringComparer.Ordinal).Select(n => (Target: n, NodeName: n)).ToList();
        if (expected.Count == 0) results.Add(new(HealthChecks.NodeReady, "nodes", false, "the API lists no Node"));
        foreach (var (target, nodeName) in expected)
        {
            if (!byName.TryGetValue(nodeName, out var node))
            {
                results.Add(new(HealthChecks.NodeReady, target, false, $"no Node named '{nodeName}' is registered"));
                continue;
            }
            var ready = node.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready");
            results.Add(ready switch
            {
                null => new(HealthChecks.NodeReady, target, false, $"Node '{nodeName}' reports no Ready condition"),
                { Status: "True" } => new(HealthChecks.NodeReady, target, true, $"Node '{nodeName}' is Ready"),
                _ => new(HealthChecks.NodeReady, target, false,
                    $"Node '{nodeName}' is Ready={ready.Status}{(string.IsNullOrEmpty(ready.Reason) ? "" : $" ({ready.Reason})")}: {Short(ready.Message ?? "")}"),
            });
        }
        return results;
    }

    internal static string Innermost(Exception ex)
    {
        while (ex.InnerException is not null) ex = ex.InnerException;
        return ex.Message;
    }

    internal static string Short(string text)
    {
        text = text.Trim().ReplaceLineEndings(" ");
        return text.Length <= 200 ? text : text[..200] + "...";
    }
}
