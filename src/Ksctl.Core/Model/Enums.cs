namespace Ksctl.Core.Model;

/// <summary>The clouds (and machine sources) ksctl can build clusters on.</summary>
public enum CloudProvider { Local, Azure, Civo, Aws, BareMetal, Gcp }

/// <summary>Managed: the cloud runs the control plane. SelfManaged: ksctl bootstraps HA Kubernetes on machines.</summary>
public enum ClusterType { Managed, SelfManaged }

/// <summary>Kubernetes distributions ksctl bootstraps on self-managed machines.</summary>
public enum DistributionKind { K3s, Kubeadm }

/// <summary>The role a machine plays in a self-managed cluster (managed clusters only have ControlPlane/Worker views).</summary>
public enum NodeRole { LoadBalancer, Datastore, ControlPlane, Worker }

/// <summary>
/// The cluster status machine (REFERENCE.md, "State machine"). Degraded is what Get-KsctlCluster -Refresh shows for a
/// Running cluster whose live checks fail; it is an observation, not stored by Ksctl, and allows what Running allows.
/// </summary>
public enum ClusterStatus { Fresh, Creating, CreationFailed, Running, Configuring, ConfiguringFailed, Deleting, DeletionFailed, Degraded }

/// <summary>Operations whose permission depends on <see cref="ClusterStatus"/>.</summary>
public enum ClusterOperation { Create, Get, Delete, Resize, Switch, Upgrade }
