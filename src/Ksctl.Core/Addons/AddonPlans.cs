using Ksctl.Core.Diagnostics;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;

namespace Ksctl.Core.Addons;

/// <summary>The plan steps of Add-/Remove-KsctlAddon: one per add-on.</summary>
internal static class AddonPlans
{
    /// <param name="time">The manager's clock: InstalledAt is what it says (tests and the reconciler inject theirs).</param>
    public static PlanStep Apply(AddonCatalog.Entry entry, TimeProvider time) => new($"addon:{entry.Name}", async (ctx, ct) =>
    {
        var manifest = entry.Manifest.Load();
        var objects = ManifestObject.Parse(manifest);
        // Every kind must be one Ksctl can address before anything is sent.
        foreach (var o in objects) KubeResourceKinds.Path(o);
        using var client = ServerSideApply.Connect(Kubeconfig(ctx));
        var apply = new ServerSideApply(client);
        // A dry run of a namespaced object needs its namespace to exist (the API answers 404 otherwise, as it does to
        // kubectl apply --dry-run=server on a fresh cluster): the add-on's namespaces are applied for real first; the
        // rest is dry-run as a whole, then applied, so an object the server refuses leaves the rest unapplied.
        var namespaces = objects.Where(o => o.Group == "" && o.Kind == "Namespace").ToList();
        var rest = objects.Except(namespaces).ToList();
        foreach (var o in namespaces) await apply.ApplyAsync(o, dryRun: false, ct).ConfigureAwait(false);
        foreach (var o in rest) await apply.ApplyAsync(o, dryRun: true, ct).ConfigureAwait(false);
        foreach (var o in rest) await apply.ApplyAsync(o, dryRun: false, ct).ConfigureAwait(false);
        var record = new AddonRecord
        {
            Name = entry.Name, Version = entry.Manifest.Version, Sha256 = entry.Manifest.Sha256,
            InstalledAt = time.GetUtcNow(), Objects = objects.Select(o => o.ToRecord()).ToList(),
        };
        ctx.Mutate(s =>
        {
            s.Addons.RemoveAll(a => a.Name == entry.Name);
            s.Addons.Add(record);
        });
    })
    {
        Description = $"server-side apply {entry.Name} {entry.Manifest.Version} (pinned manifest, sha256 {entry.Manifest.Sha256[..12]}…; dry run first, fieldManager {ServerSideApply.FieldManager})",
        Resources = [$"{entry.Name} {entry.Manifest.Version}"],
    };

    public static PlanStep Remove(AddonRecord record) => new($"addon-remove:{record.Name}", async (ctx, ct) =>
    {
        // What the state recorded is checked before it drives a deletion.
        var objects = record.Objects.Select(ManifestObject.FromRecord).ToList();
        using var client = ServerSideApply.Connect(Kubeconfig(ctx));
        var delete = new ServerSideApply(client);
        // Reverse order: objects before the namespace that holds them, bindings before their roles.
        for (var i = objects.Count - 1; i >= 0; i--) await delete.DeleteAsync(objects[i], ct).ConfigureAwait(false);
        ctx.Mutate(s => s.Addons.RemoveAll(a => a.Name == record.Name));
    })
    {
        Description = $"delete the {record.Objects.Count} object(s) {record.Name} {record.Version} applied",
        Resources = [$"{record.Name} {record.Version}"],
    };

    private static string Kubeconfig(StepContext ctx) =>
        ctx.Session.Read(s => s.Secrets.GetValueOrDefault(ClusterState.KubeconfigSecret))
        ?? throw new KsctlException("KsctlKubeconfigMissing", KsctlErrorCategory.ObjectNotFound, "The cluster's state has no kubeconfig to reach its API server.");
}
