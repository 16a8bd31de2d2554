using Ksctl.Core.Diagnostics;
using Ksctl.Core.Kube;
using Ksctl.Core.Model;
using Microsoft.Extensions.Logging;

namespace Ksctl.Core.Clusters;

/// <summary>The kubeconfig use cases: get it, merge it (Switch-KsctlContext), take merged entries out on delete.</summary>
public sealed partial class ClusterManager
{
    /// <summary>The record of merges made on this machine ($KSCTL_HOME/kubeconfig-merges.json).</summary>
    public KubeconfigMergeLog KubeconfigMerges => new(_services.Settings.Home);

    /// <summary>
    /// Merges the cluster's kubeconfig into <paramref name="path"/> (default: the file kubectl writes, from $KUBECONFIG
    /// or ~/.kube/config), keeping every other entry, and makes it current. <paramref name="contextName"/> renames the
    /// context (and its cluster and user entries) it adds.
    /// </summary>
    public async Task<KubeconfigWriteResult> SwitchContextAsync(ClusterId id, string? path, string? contextName, CancellationToken cancellationToken)
    {
        var (state, kubeconfig, name) = await ReadKubeconfigAsync(id, contextName, cancellationToken).ConfigureAwait(false);
        var result = await Guard(state, () => KubeconfigFile.MergeAsync(kubeconfig, name, path, KubeconfigMerges, MergeKey(id), cancellationToken)).ConfigureAwait(false);
        _logger.LogInformation("Context {Context} is now current in {Path}.", result.ContextName, result.Path);
        return result;
    }

    public Task<KubeconfigWriteResult> SwitchContextAsync(ClusterId id, string? path, CancellationToken cancellationToken) =>
        SwitchContextAsync(id, path, contextName: null, cancellationToken);

    /// <summary>The cluster's kubeconfig alone, as text (cleaned: only server, CA data, client certificate/key or token).</summary>
    public async Task<string> GetKubeconfigAsync(ClusterId id, string? contextName, CancellationToken cancellationToken)
    {
        var (state, kubeconfig, name) = await ReadKubeconfigAsync(id, contextName, cancellationToken).ConfigureAwait(false);
        return await Guard(state, () => Task.FromResult(KubeconfigFile.Standalone(kubeconfig, name))).ConfigureAwait(false);
    }

    /// <summary>Writes the cluster's kubeconfig alone to <paramref name="path"/> (0600); an existing file only with <paramref name="overwrite"/>.</summary>
    public async Task<KubeconfigWriteResult> WriteKubeconfigAsync(ClusterId id, string path, string? contextName, bool overwrite, CancellationToken cancellationToken)
    {
        var (state, kubeconfig, name) = await ReadKubeconfigAsync(id, contextName, cancellationToken).ConfigureAwait(false);
        return await Guard(state, () => Task.FromResult(KubeconfigFile.WriteStandalone(kubeconfig, name, path, overwrite))).ConfigureAwait(false);
    }

    /// <summary>A context name given by the user: printable, no spaces, at most 253 characters (it is also a YAML key kubectl prints).</summary>
    public static void ValidateContextName(string? contextName)
    {
        if (contextName is null) return;
        if (contextName.Length is 0 or > 253 || contextName.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            throw new InvalidSpecException("ContextName", $"'{contextName}' is not a usable context name; use 1 to 253 characters without spaces or control characters.");
    }

    private async Task<(ClusterState State, string Kubeconfig, string Name)> ReadKubeconfigAsync(ClusterId id, string? contextName, CancellationToken cancellationToken)
    {
        ValidateContextName(contextName);
        var state = await GetAsync(id, cancellationToken).ConfigureAwait(false);
        await EnsureAllowedAsync(state, ClusterOperation.Switch, lockHeld: false, cancellationToken).ConfigureAwait(false);
        if (!state.Secrets.TryGetValue(ClusterState.KubeconfigSecret, out var kubeconfig) || string.IsNullOrWhiteSpace(kubeconfig))
            throw new KsctlException("KsctlKubeconfigMissing", KsctlErrorCategory.ObjectNotFound, $"Cluster {id} has no kubeconfig in its state.", id.Name);
        var name = contextName ?? state.ContextName ?? id.DefaultContextName;
        ValidateContextName(name);
        return (state, kubeconfig, name);
    }

    /// <summary>A recorded kubeconfig that is refused now was tampered with after it was stored: that is the state's fault, named as such.</summary>
    private static async Task<T> Guard<T>(ClusterState state, Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (KsctlException ex) when (ex.ErrorId is "KsctlKubeconfigRefused" or "KsctlKubeconfigInvalid")
        {
            throw new KsctlException("KsctlStateInvalid", KsctlErrorCategory.InvalidData,
                $"The kubeconfig recorded for cluster {state.Id} is not acceptable: {ex.Message}", state.Id.Name, ex);
        }
    }

    private static string MergeKey(ClusterId id) => $"{id.Provider}/{id.Type}/{id.Name}/{id.Region}".ToLowerInvariant();

    /// <summary>After a delete: take out of kubeconfigs what Switch-KsctlContext merged for this cluster, like `kind delete cluster`.</summary>
    private async Task RemoveMergedKubeconfigEntriesAsync(ClusterId id)
    {
        try
        {
            foreach (var r in await KubeconfigFile.RemoveMergedAsync(KubeconfigMerges, MergeKey(id), CancellationToken.None).ConfigureAwait(false))
            {
                if (r.Problem is not null)
                    _logger.LogWarning("Could not remove context {Context} from {Path}: {Problem}.", r.Name, r.Path, r.Problem);
                else if (r.Removed.Count > 0)
                    _logger.LogInformation("Removed {Entries} '{Context}' from {Path}.", string.Join(", ", r.Removed), r.Name, r.Path);
                if (r.Kept.Count > 0)
                    _logger.LogWarning("Kept {Entries} '{Context}' in {Path}: changed since Ksctl merged them.", string.Join(", ", r.Kept), r.Name, r.Path);
            }
        }
        catch (Exception ex) when (ex is KsctlException or IOException or UnauthorizedAccessException)
        {
            // The cluster is gone; a kubeconfig that cannot be tidied is worth a warning, not a failed delete.
            _logger.LogWarning("Could not tidy kubeconfigs after deleting {Cluster}: {Message}", id, ex.Message);
        }
    }
}
