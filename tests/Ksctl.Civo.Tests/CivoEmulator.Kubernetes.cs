using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Ksctl.Civo.Tests;

/// <summary>
/// The emulator's managed Kubernetes (civogo kubernetes.go; rules and sources in <see cref="CivoEmulator"/>'s header).
/// Clusters go BUILDING → ACTIVE after <see cref="PollsToActive"/> GETs and DELETING → gone after <see cref="PollsToGone"/>.
/// </summary>
public sealed partial class CivoEmulator
{
    /// <summary>GET /v2/kubernetes/versions: (version, type, default).</summary>
    public static readonly (string Version, string Type, bool Default)[] KubernetesVersions =
        [("1.29.8-k3s1", "deprecated", false), ("1.30.5-k3s1", "stable", false), ("1.31.2-k3s1", "stable", true), ("1.32.1-k3s1", "development", false)];
    /// <summary>What Civo installs in every new cluster unless removed with "-Name".</summary>
    public static readonly string[] DefaultApplications = ["Traefik-v2-nodeport", "metrics-server"];
    public static readonly string[] MarketplaceApplications = [.. DefaultApplications, "cert-manager", "Linkerd", "Longhorn", "Prometheus-operator"];
    private readonly ConcurrentDictionary<string, Cluster> _clusters = new();

    public sealed class Cluster
    {
        public required string Id { get; init; }
        public required string Name { get; init; }
        public required string Region { get; init; }
        public required int Nodes { get; set; }
        public required string Size { get; init; }
        public required string Version { get; set; }
        public required string Cni { get; init; }
        public required string NetworkId { get; init; }
        public string? FirewallId { get; init; }
        public required string[] Applications { get; init; }
        public required string[] Tags { get; init; }
        public required string MasterIp { get; init; }
        public string[] NodeIds { get; set; } = [];
        public string Status { get; set; } = "BUILDING";
        public int Polls { get; set; }
        /// <summary>The version an accepted upgrade moves the cluster to (UPGRADING until then).</summary>
        public string? UpgradingTo { get; set; }
    }

    /// <summary>The clusters that exist (not yet deleted), any status.</summary>
    public IReadOnlyList<Cluster> Inventory => _clusters.Values.OrderBy(c => c.Name).ToList();
    public int PollsToActive { get; set; } = 3;
    public int PollsToGone { get; set; } = 2;
    /// <summary>Keeps every cluster BUILDING (for cancel-while-waiting tests).</summary>
    public bool HoldBuilding { get; set; }
    /// <summary>The next POST of a cluster fails with this status and body instead of creating it.</summary>
    public (int Status, string Code, string Reason, string? Details)? NextCreateError { get; set; }
    /// <summary>The next POST of a cluster creates it, then answers 500 (a lost response).</summary>
    public bool NextCreateAppliesThenFails { get; set; }
    /// <summary>What the nodes' addresses are reported as (a hostile value, for "validated before recorded" tests).</summary>
    public string? NodePublicIpOverride { get; set; }

    private void MapKubernetesRoutes(RouteGroupBuilder v2)
    {
        v2.MapGet("/kubernetes/versions", () => Results.Json(Array(KubernetesVersions.Select(v => new JsonObject
        {
            ["label"] = $"v{v.Version}", ["version"] = v.Version, ["type"] = v.Type, ["default"] = v.Default ? true : null, ["clusterType"] = "k3s",
        }))));
        v2.MapGet("/kubernetes/clusters", (HttpContext ctx) =>
        {
            var region = Region(ctx);
            // tiny pages: pagination is exercised
            return Results.Json(Page(ctx, _clusters.Values.Where(c => c.Region == region).OrderBy(c => c.Name).Select(Json).ToList(), maxPerPage: 2));
        });
        v2.MapGet("/kubernetes/clusters/{id}", (string id, HttpContext ctx) =>
        {
            if (!IsId(id) || !_clusters.TryGetValue(id, out var c) || c.Region != Region(ctx)) return ClusterNotFound();
            lock (c)
            {
                c.Polls++;
                if (c.Status is "BUILDING" or "SCALING" && !HoldBuilding && c.Polls >= PollsToActive) c.Status = "ACTIVE";
                else if (c.Status == "UPGRADING" && c.Polls >= PollsToActive) FinishUpgrade(c);
                else if (c.Status == "DELETING" && c.Polls >= PollsToGone)
                {
                    _clusters.TryRemove(id, out _);
                    return ClusterNotFound();
                }
            }
            return Results.Json(Json(c));
        });
        MapKubernetesUpgradeRoute(v2);
        v2.MapDelete("/kubernetes/clusters/{id}", (string id, HttpContext ctx) =>
        {
            if (!IsId(id) || !_clusters.TryGetValue(id, out var c) || c.Region != Region(ctx)) return ClusterNotFound();
            lock (c) { c.Status = "DELETING"; c.Polls = 0; }
            return Results.Json(new { result = "success" });
        });
        v2.MapPost("/kubernetes/clusters", async (HttpContext ctx) =>
        {
            var body = await BodyAsync(ctx);
            if (NextCreateError is { } err)
            {
                NextCreateError = null;
                return Fail(err.Status, err.Code, err.Reason, err.Details);
            }
            var name = Str(body, "name");
            var region = Str(body, "region") ?? "LON1";
            if (string.IsNullOrEmpty(name)) return Fail(400, "parameter_name_missing", "The name parameter is required");
            if (!Regions.Contains(region)) return Fail(404, "region_not_found", $"The region {region} was not found");
            var networkId = Str(body, "network_id");
            if (networkId is null || NetworkOf(networkId, region) is null)
                return Fail(404, "database_network_not_found", "The requested network could not be found", $"network_id '{networkId}' is not a network of {region}");
            var firewallId = Str(body, "instance_firewall") ?? Str(body, "firewall_id");
            if (firewallId is not null && (!_firewalls.TryGetValue(firewallId, out var fw) || fw.Region != region || fw.NetworkId != networkId))
                return Fail(400, "database_firewall_mismatch", $"The firewall {firewallId} is not part of network {networkId}");
            if (_clusters.Values.Any(c => c.Name == name && c.Region == region))
                return Fail(409, "database_kubernetes_cluster_duplicate", "A Kubernetes cluster with this name already exists");
            var size = Str(body, "target_nodes_size") ?? "g4s.kube.medium";
            if (!size.Contains(".kube.")) return Fail(422, "size_not_found", $"The size {size} was not found");
            var version = Str(body, "kubernetes_version") ?? KubernetesVersions.Single(v => v.Default).Version;
            if (!KubernetesVersions.Any(v => v.Version == version))
                return Fail(400, "database_kubernetes_cluster_invalid_version", $"The Kubernetes version {version} is not available", $"available: {string.Join(", ", KubernetesVersions.Select(v => v.Version))}");
            var apps = DefaultApplications.ToList();
            foreach (var app in (Str(body, "applications") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var remove = app.StartsWith('-');
                var appName = remove ? app[1..] : app;
                if (!MarketplaceApplications.Contains(appName, StringComparer.OrdinalIgnoreCase))
                    return Fail(400, "database_kubernetes_application_not_found", $"The application {appName} could not be found in the marketplace");
                if (remove) apps.RemoveAll(a => string.Equals(a, appName, StringComparison.OrdinalIgnoreCase));
                else if (!apps.Contains(appName, StringComparer.OrdinalIgnoreCase)) apps.Add(appName);
            }
            var n = Interlocked.Increment(ref _ipCounter);
            var nodes = body["num_target_nodes"]?.GetValue<int>() ?? 3;
            var cluster = new Cluster
            {
                Id = NewId(), Name = name, Region = region, Nodes = nodes, Size = size, Version = version,
                Cni = Str(body, "cni_plugin") ?? "flannel", NetworkId = networkId, FirewallId = firewallId, Applications = [.. apps],
                Tags = (Str(body, "tags") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries),
                MasterIp = $"74.220.1.{n}", NodeIds = Enumerable.Range(0, nodes).Select(_ => NewId()).ToArray(),
            };
            _clusters[cluster.Id] = cluster;
            if (NextCreateAppliesThenFails)
            {
                NextCreateAppliesThenFails = false;
                return Fail(500, "internal_server_error", "An unexpected error occurred");
            }
            return Results.Json(Json(cluster));
        });
    }

    private static IResult ClusterNotFound() => Fail(404, "database_kubernetes_cluster_not_found", "The requested Kubernetes cluster could not be found");

    /// <summary>A cluster nobody made through Ksctl (no tags), on the region's default network.</summary>
    public Cluster AddForeignCluster(string name, string region = "LON1")
    {
        var cluster = new Cluster
        {
            Id = NewId(), Name = name, Region = region, Nodes = 1, Size = "g4s.kube.small", Version = "1.31.2-k3s1", Cni = "flannel",
            NetworkId = DefaultNetworkId(region), Applications = [], Tags = [], MasterIp = "74.220.1.250", Status = "ACTIVE",
        };
        _clusters[cluster.Id] = cluster;
        return cluster;
    }

    private JsonObject Json(Cluster c)
    {
        lock (c)
        {
            var active = c.Status == "ACTIVE";
            return new JsonObject
            {
                ["id"] = c.Id, ["name"] = c.Name, ["region"] = c.Region, ["status"] = c.Status, ["ready"] = active ? true : null,
                ["num_target_nodes"] = c.Nodes, ["target_nodes_size"] = c.Size, ["kubernetes_version"] = c.Version, ["cni_plugin"] = c.Cni,
                ["network_id"] = c.NetworkId, ["firewall_id"] = c.FirewallId,
                ["tags"] = Array(c.Tags.Select(t => JsonValue.Create(t)!)),
                ["master_ip"] = active ? c.MasterIp : "",
                ["api_endpoint"] = active ? $"https://{c.MasterIp}:6443" : "",
                ["kubeconfig"] = active ? Kubeconfig(c) : null,
                ["installed_applications"] = Array(c.Applications.Select(a => new JsonObject { ["application"] = a, ["installed"] = active })),
                ["instances"] = Array(c.NodeIds.Select((id, i) => new JsonObject
                {
                    ["id"] = id,
                    ["hostname"] = $"k3s-{c.Name}-{c.Id[..4]}-node-pool-{i}",
                    ["size"] = c.Size,
                    ["status"] = active ? "ACTIVE" : "BUILDING",
                    ["public_ip"] = active ? NodePublicIpOverride ?? $"74.220.2.{i + 1}" : null,
                    ["private_ip"] = active ? $"192.168.1.{i + 10}" : null,
                })),
            };
        }
    }

    /// <summary>What Civo returns: a k3s kubeconfig whose cluster, user and context are all "default".</summary>
    private static string Kubeconfig(Cluster c) => $"""
        apiVersion: v1
        clusters:
        - cluster:
            certificate-authority-data: Q0EgREFUQQ==
            server: https://{c.MasterIp}:6443
          name: default
        contexts:
        - context:
            cluster: default
            user: default
          name: default
        current-context: default
        kind: Config
        preferences: {"{}"}
        users:
        - name: default
          user:
            client-certificate-data: Q0VSVCBEQVRB
            client-key-data: S0VZIERBVEE=
        """;
}
