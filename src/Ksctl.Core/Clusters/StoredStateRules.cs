using System.Text.RegularExpressions;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.Core.Providers;

namespace Ksctl.Core.Clusters;

/// <summary>
/// A state read back is input like any other: before it drives a request, a deletion or a script, its recorded spec
/// must pass the rules a new spec passes (the field patterns, then the provider's own <c>Prepare</c> rules), its
/// identity must be valid and the spec's own, and every recorded node value that reaches SSH or a script (addresses,
/// user, host key, host name) must have its type. Runs on every load: get, list, resume, delete, resize, switch, import.
/// The store has already checked the document's shape, place and integrity (<see cref="Storage.StateDocument"/>).
/// </summary>
internal sealed class StoredStateRules(ProviderRegistry providers)
{
    private static readonly Regex UserText = new("^[a-z_][a-z0-9_-]{0,31}\\z", RegexOptions.CultureInvariant);
    private static readonly Regex HostKeyText = new("^SHA256:[A-Za-z0-9+/]{1,64}={0,2}\\z", RegexOptions.CultureInvariant);

    /// <summary>Throws <see cref="StateInvalidException"/> naming the cluster when the state must not be used.</summary>
    public void Check(ClusterState state, string source)
    {
        var cluster = state.Id?.ToString() ?? "(no id)";
        if (Problem(state) is { } problem) throw new StateInvalidException(cluster, source, problem);
        try
        {
            SpecRules.Fields(state.Spec);
            // A document of a provider this build does not offer is shown as it is; nothing can act on it anyway.
            if (providers.All.FirstOrDefault(p => p.Descriptor.Provider == state.Id!.Provider) is not { } provider) return;
            if (!provider.Descriptor.SupportedTypes.Contains(state.Id!.Type))
                throw new InvalidSpecException("Type", $"the {state.Id.Provider} provider offers no {state.Id.Type} clusters.");
            if (provider is IStoredSpecCheck stored) stored.CheckStored(state.Spec);
            else provider.Prepare(state.Spec);
        }
        catch (InvalidSpecException ex)
        {
            throw new StateInvalidException(cluster, source, $"its recorded spec breaks a rule ({ex.Message})", ex);
        }
    }

    /// <remarks>An empty value (a cloud that has not reported an address yet) carries nothing and passes.</remarks>
    private static string? Problem(ClusterState state)
    {
        if (state.Id is null || state.Spec?.Id is null) return "it has no identity";
        if (state.Id.Problem() is { } idProblem) return $"its identity is invalid: {idProblem}";
        if (state.Spec.Id != state.Id) return $"its spec names another cluster ({state.Spec.Id})";
        foreach (var node in state.Nodes)
        {
            var n = ClusterId.Printable(node.Name);
            if (node.PublicIP is { Length: > 0 } pub && !HostAddress.IsValid(pub)) return $"node {n}: public address '{ClusterId.Printable(pub)}' is not {HostAddress.Rule}";
            if (node.PrivateIP is { Length: > 0 } priv && !HostAddress.IsValid(priv)) return $"node {n}: private address '{ClusterId.Printable(priv)}' is not {HostAddress.Rule}";
            if (node.Hostname is { Length: > 0 } host && !HostAddress.IsHostName(host)) return $"node {n}: host name '{ClusterId.Printable(host)}' is not a host name";
            if (node.SshUser is { Length: > 0 } user && !UserText.IsMatch(user)) return $"node {n}: SSH user '{ClusterId.Printable(user)}' is not a user name";
            if (node.HostKey is { Length: > 0 } key && !HostKeyText.IsMatch(key)) return $"node {n}: host key '{ClusterId.Printable(key)}' is not an OpenSSH SHA256 fingerprint";
            if (node.SshPort is < 0 or > 65535) return $"node {n}: SSH port {node.SshPort} is not a port";
            if (!Enum.IsDefined(node.Role)) return $"node {n}: role {(int)node.Role} is not a role";
            if (node.SshKeyPath is { } keyPath && keyPath.Any(char.IsControl)) return $"node {n}: key path holds control characters";
        }
        if (state.Endpoint is { Length: > 0 } endpoint
            && (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp) || endpoint.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))))
            return $"endpoint '{ClusterId.Printable(endpoint)}' is not an http(s) URL";
        if (state.ContextName is { } context && (context.Length == 0 || context.Any(c => char.IsControl(c) || char.IsWhiteSpace(c))))
            return $"context name '{ClusterId.Printable(context)}' holds spaces or control characters";
        return null;
    }
}
