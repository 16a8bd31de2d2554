using Ksctl.Core.Diagnostics;
using Ksctl.Core.Distributions;
using Ksctl.Core.Distributions.Artifacts;
using Ksctl.Core.Engine;
using Ksctl.Core.Model;
using Ksctl.Core.Remote;

namespace Ksctl.Core.Providers.BareMetal;

/// <summary>
/// Self-managed clusters on machines the user already has (like k3sup or k0sctl): nothing is created or deleted;
/// each machine step connects over SSH with the pinned (or, with -TrustOnFirstUse, learned) host key and records
/// the machine. The i-th machine of a role in the inventory becomes that role's node i.
/// </summary>
internal sealed class BareMetalProvider : ISelfManagedProvider, IStoredSpecCheck, IInventoryProvider
{
    public ProviderDescriptor Descriptor { get; } = new()
    {
        Provider = CloudProvider.BareMetal,
        SupportedTypes = [ClusterType.SelfManaged],
        DefaultRegion = "baremetal",
        Regions = ["baremetal"],
        RegionIsLabel = true,
        DefaultKubernetesVersion = "1.33.1",
    };

    public bool KeepsMachines => true;

    /// <summary>The machines answering on their SSH port (<see cref="BareMetalInventory"/>).</summary>
    public Task<IReadOnlyList<LiveMachine>> LiveMachinesAsync(ClusterState state, CancellationToken cancellationToken) =>
        BareMetalInventory.ProbeAsync(state, cancellationToken);

    public ClusterSpec Prepare(ClusterSpec spec) => Check(spec, keyFilesMustExist: true);

    /// <summary>A recorded inventory: the same rules, except that a key file removed since does not hide the cluster.</summary>
    public void CheckStored(ClusterSpec spec) => Check(spec, keyFilesMustExist: false);

    private ClusterSpec Check(ClusterSpec spec, bool keyFilesMustExist)
    {
        SpecRules.Fields(spec);
        SpecRules.NotApplicable("NodeCount", spec.NodeCount, "applies to Managed clusters; BareMetal counts come from the -Machine inventory.");
        SpecRules.NotApplicable("NodeSize", spec.NodeSize, "BareMetal machines already exist; they have no size to choose.");
        foreach (var (parameter, value) in new[] { ("ControlPlaneSize", spec.ControlPlaneSize), ("WorkerSize", spec.WorkerSize), ("EtcdSize", spec.EtcdSize), ("LoadBalancerSize", spec.LoadBalancerSize) })
            SpecRules.NotApplicable(parameter, value, "BareMetal machines already exist; they have no size to choose.");
        if (spec.Machines.Count == 0)
            throw new InvalidSpecException("Machine", "the BareMetal provider needs an inventory: -Machine (or 'machines' in the spec file) listing 1 LoadBalancer, 3 or more (odd) Datastore and 3 or more (odd) ControlPlane machines, and any Workers.");
        int Count(NodeRole role) => spec.Machines.Count(m => m.Role == role);
        if (Count(NodeRole.LoadBalancer) != 1) throw new InvalidSpecException("Machine", $"the inventory has {Count(NodeRole.LoadBalancer)} LoadBalancer machines; exactly 1 is needed.");
        var etcd = SpecRules.Count("Machine", Count(NodeRole.Datastore), 3, 3, 99, odd: true);
        var cps = SpecRules.Count("Machine", Count(NodeRole.ControlPlane), 3, 3, 99, odd: true);
        if (spec.EtcdCount is { } e && e != etcd) throw new InvalidSpecException("EtcdCount", $"{e} differs from the {etcd} Datastore machines in the inventory.");
        if (spec.ControlPlaneCount is { } c && c != cps) throw new InvalidSpecException("ControlPlaneCount", $"{c} differs from the {cps} ControlPlane machines in the inventory.");
        var workersInInventory = Count(NodeRole.Worker);
        var workers = spec.WorkerCount ?? workersInInventory;
        if (workers < 0 || workers > workersInInventory)
            throw new InvalidSpecException("WorkerCount", $"{workers} workers were asked for but the inventory has {workersInInventory} Worker machine(s); add machines to -Machine.");
        var duplicate = spec.Machines.GroupBy(m => $"{m.Address}:{m.Port}").FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidSpecException("Machine", $"{duplicate.Key} is listed {duplicate.Count()} times; each machine plays one role.");
        foreach (var m in spec.Machines)
        {
            if (m.KeyPath is null) throw new InvalidSpecException("Machine", $"machine {m.Address} has no KeyPath (the SSH private key file to log in with).");
            if (keyFilesMustExist && !File.Exists(m.KeyPath)) throw new InvalidSpecException("Machine", $"the KeyPath '{ClusterId.Printable(m.KeyPath)}' of machine {m.Address} does not exist.");
            if (m.HostKey is null && !spec.TrustOnFirstUse)
                throw new InvalidSpecException("Machine", $"machine {m.Address} has no HostKey. Give its fingerprint (ssh-keygen -lf of its public host key, 'SHA256:...'), or pass -TrustOnFirstUse to record the key it presents on first contact.");
            if (m.HostKey is not null && !m.HostKey.StartsWith("SHA256:", StringComparison.Ordinal))
                throw new InvalidSpecException("Machine", $"HostKey '{m.HostKey}' of machine {m.Address} is not an OpenSSH SHA256 fingerprint ('SHA256:...').");
        }
        ArtifactSource.Parse(spec.ArtifactSource, spec.AllowInsecureArtifactSource);
        return spec with
        {
            Id = spec.Id with { Region = SpecRules.Region(Descriptor, spec.Id.Region) },
            KubernetesVersion = SpecRules.Version(spec.KubernetesVersion, Descriptor.DefaultKubernetesVersion, requirePatch: true),
            Distribution = spec.Distribution ?? DistributionKind.K3s,
            EtcdCount = etcd,
            ControlPlaneCount = cps,
            WorkerCount = workers,
        };
    }

    /// <summary>The inventory machine that plays a topology node (the i-th of its role, in inventory order).</summary>
    internal static MachineSpec MachineFor(ClusterSpec spec, TopologyNode node) =>
        spec.Machines.Where(m => m.Role == node.Role).ElementAt(node.Index);

    public IReadOnlyList<PlanStep> MachineSteps(ClusterSpec spec, SelfManagedTopology topology, MachineAccess access) =>
        topology.All.Select(node =>
        {
            var machine = MachineFor(spec, node);
            return new PlanStep(node.MachineStep, (ctx, ct) => AdoptAsync(ctx, spec, node, machine, access, ct))
            {
                Description = $"reach {machine.User}@{machine.Address}:{machine.Port} over SSH with its {(machine.HostKey is null ? "first-seen" : "pinned")} host key",
                Resources = [$"{node.ResourceName(spec.Id.Name)} = {machine.Address}"],
            };
        }).ToArray();

    public IReadOnlyList<PlanStep> MachineDeleteSteps(ClusterState state) => [];

    public IReadOnlyList<PlanStep> RemoveMachineSteps(ClusterState state, IReadOnlyList<NodeState> nodes) => [];

    public RemoteMachine Connection(ClusterState state, NodeState node) => new()
    {
        Name = node.Name,
        Address = node.PublicIP ?? node.PrivateIP!,
        Port = node.SshPort,
        User = node.SshUser ?? "root",
        PrivateKeyPath = node.SshKeyPath,
        HostKeyFingerprint = node.HostKey,
    };

    private static async Task AdoptAsync(StepContext ctx, ClusterSpec spec, TopologyNode node, MachineSpec machine, MachineAccess access, CancellationToken ct)
    {
        var name = node.ResourceName(spec.Id.Name);
        var remote = new RemoteMachine
        {
            Name = name, Address = machine.Address, Port = machine.Port, User = machine.User,
            PrivateKeyPath = machine.KeyPath, HostKeyFingerprint = machine.HostKey,
        };
        var shell = await access.ShellAsync(ctx, node.Key, remote, ct).ConfigureAwait(false);
        var facts = await shell.RunAsync(new RemoteScript("machine:facts", "hostname\n", retries: 1), ct).ConfigureAwait(false);
        ctx.Mutate(s =>
        {
            s.Nodes.RemoveAll(n => n.Key == node.Key);
            s.Nodes.Add(new NodeState
            {
                Key = node.Key, Name = name, Role = node.Role, Index = node.Index,
                PublicIP = machine.Address, PrivateIP = machine.PrivateAddress ?? machine.Address,
                ResourceId = $"{machine.Address}:{machine.Port}", HostKey = shell.HostKeyFingerprint,
                SshUser = machine.User, SshPort = machine.Port, SshKeyPath = machine.KeyPath,
                Hostname = facts.StandardOutput.Trim(),
            });
        });
    }
}
