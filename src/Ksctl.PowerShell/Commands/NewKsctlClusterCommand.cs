using System.Collections;
using System.Management.Automation;
using Ksctl.Core.Clusters;
using Ksctl.Core.Diagnostics;
using Ksctl.Core.Model;
using Ksctl.PowerShell.Completers;
using Ksctl.PowerShell.Internal;
using Ksctl.PowerShell.Models;

namespace Ksctl.PowerShell.Commands;

/// <summary>
/// Creates a cluster (or resumes one whose creation failed). Parameters, a YAML spec file (-SpecPath), or both:
/// parameters given on the command line override the file field by field. -WhatIf prints the validated plan.
/// </summary>
[Cmdlet(VerbsCommon.New, "KsctlCluster", DefaultParameterSetName = ParametersSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(KsctlCluster))]
public sealed class NewKsctlClusterCommand : KsctlCmdlet
{
    private const string ParametersSet = "Parameters";
    private const string SpecSet = "Spec";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ParametersSet)]
    [Parameter(Position = 0, ParameterSetName = SpecSet)]
    public string? Name { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = ParametersSet)]
    [Parameter(ParameterSetName = SpecSet)]
    [ValidateSet(Names.Local, Names.Azure, Names.Civo, Names.Aws, Names.BareMetal)]
    public string? Provider { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = SpecSet)]
    [ValidateNotNullOrEmpty]
    public string? SpecPath { get; set; }

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

    [Parameter]
    public SwitchParameter AllowInsecureArtifactSource { get; set; }

    [Parameter]
    [ValidateRange(1, 64)]
    public int ThrottleLimit { get; set; } = 8;

    /// <summary>The cloud credential for this operation (first in the credential order): Azure service principal (user name = client id, password = client secret), Civo API key (password).</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Azure: the Entra tenant of -Credential (or of the default sign-in).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? TenantId { get; set; }

    /// <summary>Azure: the subscription to use, whichever way the sign-in is found.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SubscriptionId { get; set; }

    /// <summary>Takes over a lock left by a process that no longer runs.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var manager = GetManager();
        ClusterSpec spec;
        Core.Engine.Plan plan;
        try
        {
            var file = SpecPath is null ? new SpecFile() : SpecFile.Load(GetUnresolvedProviderPathFromPSPath(SpecPath));
            var merged = file.OverrideWith(FromBoundParameters());
            var defaults = manager.Providers.ToDictionary(d => d.Provider, d => d.DefaultRegion);
            spec = merged.ToClusterSpec(p => defaults.TryGetValue(p, out var r) ? r : "");
            (plan, _) = Run(ct => manager.PlanCreateAsync(spec, ct));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            // Invalid input (or a cluster whose status forbids creation): nothing can proceed, -WhatIf included.
            ThrowTerminatingError(ErrorMapper.ToErrorRecord(ex, Name ?? SpecPath));
            return;
        }

        var id = plan.Cluster;
        var description = $"Creating cluster {id}.{Environment.NewLine}{plan.Render()}";
        var warning = $"Create cluster {id}?{Environment.NewLine}{plan.Render()}";
        if (!ShouldProcess(description, warning, "Confirm cluster creation")) return;

        try
        {
            var options = new OperationOptions { MaxParallelism = ThrottleLimit, BreakStaleLock = Force.IsPresent, Credential = CredentialParameters.From(Credential, TenantId, SubscriptionId) };
            var state = Run(ct => manager.CreateAsync(spec, options, ct), $"Creating cluster {id.Name}");
            WriteObject(ModelMapper.ToCluster(state));
        }
        catch (Exception ex) when (ex is not PipelineStoppedException)
        {
            WriteFailure(ex, id.Name);
        }
    }

    /// <summary>A spec holding only what was given on the command line, so that it overrides the file field by field.</summary>
    private SpecFile FromBoundParameters()
    {
        var bound = MyInvocation.BoundParameters;
        bool Has(string name) => bound.ContainsKey(name);
        return new SpecFile
        {
            Name = Has(nameof(Name)) ? Name : null,
            Provider = Has(nameof(Provider)) ? Provider : null,
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
            ArtifactSource = Has(nameof(ArtifactSource)) ? ArtifactSource : null,
            AllowInsecureArtifactSource = Has(nameof(AllowInsecureArtifactSource)) ? AllowInsecureArtifactSource.IsPresent : null,
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
