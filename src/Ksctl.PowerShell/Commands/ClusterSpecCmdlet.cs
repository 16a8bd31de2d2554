using System.Collections;
using System.Management.Automation;
using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.PowerShell.Completers;
using Ksctl.PowerShell.Internal;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// The cluster spec as parameters, shared by New-KsctlCluster and Get-KsctlPlan (-Operation New): every field of the
/// -SpecPath schema except the name and provider, which each cmdlet declares in its own parameter sets.
/// </summary>
public abstract class ClusterSpecCmdlet : KsctlCmdlet
{
    [Parameter]
    [ValidateSet(Names.Managed, Names.SelfManaged)]
    public string? Type { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(RegionCompleter))]
    public string? Region { get; set; }

    [Parameter]
    public string? KubernetesVersion { get; set; }

    [Parameter]
    public int NodeCount { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(NodeSizeCompleter))]
    public string? NodeSize { get; set; }

    [Parameter]
    [ValidateSet(Names.K3s, Names.Kubeadm)]
    public string? Distribution { get; set; }

    [Parameter]
    public int ControlPlaneCount { get; set; }

    [Parameter]
    public int WorkerCount { get; set; }

    [Parameter]
    public int EtcdCount { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(MachineSizeCompleter))]
    public string? ControlPlaneSize { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(MachineSizeCompleter))]
    public string? WorkerSize { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(MachineSizeCompleter))]
    public string? EtcdSize { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(MachineSizeCompleter))]
    public string? LoadBalancerSize { get; set; }

    [Parameter]
    public string? Cni { get; set; }

    [Parameter]
    public string[]? Application { get; set; }

    /// <summary>Machines of a BareMetal cluster: hashtables or objects with Address, Port, User, KeyPath, HostKey, Role, PrivateAddress.</summary>
    [Parameter]
    public object[]? Machine { get; set; }

    [Parameter]
    public SwitchParameter TrustOnFirstUse { get; set; }

    [Parameter]
    public string? ArtifactSource { get; set; }

    /// <summary>Allows a plain http -ArtifactSource URL (binaries are still checked against SHA256SUMS on the machine).</summary>
    [Parameter]
    public SwitchParameter AllowInsecureArtifactSource { get; set; }

    /// <summary>Self-managed: run the distribution with an external cloud provider and install the provider's cloud controller manager.</summary>
    [Parameter]
    public SwitchParameter CloudController { get; set; }

    /// <summary>
    /// The spec: the -SpecPath file (relative to the PowerShell location) overridden field by field by the parameters
    /// given on the command line, the provider's default region filled in. Throws KsctlInvalidSpec; touches nothing.
    /// </summary>
    private protected ClusterSpec BuildSpec(ClusterManager manager, string? specPath, string? name, string? provider)
    {
        var file = specPath is null ? new SpecFile() : SpecFile.Load(GetUnresolvedProviderPathFromPSPath(specPath));
        var merged = file.OverrideWith(FromBoundParameters(name, provider));
        var defaults = manager.Providers.ToDictionary(d => d.Provider, d => d.DefaultRegion);
        return merged.ToClusterSpec(p => defaults.TryGetValue(p, out var r) ? r : "");
    }

    /// <summary>
    /// A folder given as -ArtifactSource is relative to the PowerShell location ($PWD, '~' included), not to the
    /// process's directory, like any path parameter; a URL is left as it is.
    /// </summary>
    private string? ResolveArtifactSource(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return value;
        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https") return value;
        return System.IO.Path.GetFullPath(GetUnresolvedProviderPathFromPSPath(value));
    }

    /// <summary>A spec holding only what was given on the command line, so that it overrides the file field by field.</summary>
    private protected SpecFile FromBoundParameters(string? name, string? provider)
    {
        var bound = MyInvocation.BoundParameters;
        bool Has(string name) => bound.ContainsKey(name);
        return new SpecFile
        {
            Name = Has("Name") ? name : null,
            Provider = Has("Provider") ? provider : null,
            Type = Has(nameof(Type)) ? Type : null,
            Region = Has(nameof(Region)) ? Region : null,
            KubernetesVersion = Has(nameof(KubernetesVersion)) ? KubernetesVersion : null,
            NodeCount = Has(nameof(NodeCount)) ? NodeCount : null,
            NodeSize = Has(nameof(NodeSize)) ? NodeSize : null,
            Distribution = Has(nameof(Distribution)) ? Distribution : null,
            ControlPlaneCount = Has(nameof(ControlPlaneCount)) ? ControlPlaneCount : null,
            WorkerCount = Has(nameof(WorkerCount)) ? WorkerCount : null,
            EtcdCount = Has(nameof(EtcdCount)) ? EtcdCount : null,
            ControlPlaneSize = Has(nameof(ControlPlaneSize)) ? ControlPlaneSize : null,
            WorkerSize = Has(nameof(WorkerSize)) ? WorkerSize : null,
            EtcdSize = Has(nameof(EtcdSize)) ? EtcdSize : null,
            LoadBalancerSize = Has(nameof(LoadBalancerSize)) ? LoadBalancerSize : null,
            Cni = Has(nameof(Cni)) ? Cni : null,
            Applications = Has(nameof(Application)) ? (Application ?? []).ToList() : null,
            Machines = Has(nameof(Machine)) ? (Machine ?? []).Select(ToMachineEntry).ToList() : null,
            TrustOnFirstUse = Has(nameof(TrustOnFirstUse)) ? TrustOnFirstUse.IsPresent : null,
            ArtifactSource = Has(nameof(ArtifactSource)) ? ResolveArtifactSource(ArtifactSource) : null,
            AllowInsecureArtifactSource = Has(nameof(AllowInsecureArtifactSource)) ? AllowInsecureArtifactSource.IsPresent : null,
            CloudController = Has(nameof(CloudController)) ? CloudController.IsPresent : null,
        };
    }

    private SpecFile.MachineEntry ToMachineEntry(object item)
    {
        var value = item is PSObject pso ? pso.BaseObject : item;
        string? Get(string name)
        {
            object? v = null;
            if (value is IDictionary d)
            {
                foreach (DictionaryEntry e in d)
                    if (string.Equals(e.Key?.ToString(), name, StringComparison.OrdinalIgnoreCase)) { v = e.Value; break; }
            }
            else
            {
                v = PSObject.AsPSObject(item).Properties[name]?.Value;
            }
            v = v is PSObject p ? p.BaseObject : v;
            return v?.ToString();
        }
        var port = Get("Port");
        return new SpecFile.MachineEntry
        {
            Address = Get("Address"),
            Port = port is null ? null : int.TryParse(port, out var n) ? n : throw new InvalidSpecException("Machine", $"machine {Get("Address")} has port '{port}', which is not a number."),
            User = Get("User"),
            // Relative to the current PowerShell location, '~' included, as users expect of any path parameter.
            KeyPath = Get("KeyPath") is { Length: > 0 } key ? GetUnresolvedProviderPathFromPSPath(key) : null,
            HostKey = Get("HostKey"),
            Role = Get("Role"),
            PrivateAddress = Get("PrivateAddress"),
        };
    }
}
